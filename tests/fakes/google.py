"""A fake of Vertex AI's Veo endpoints, as `google-genai` 3.3.0 speaks them in express mode (PROVIDERS.md §4).

Wire format (JSON; every request carries `x-goog-api-key: <key>`):

- `POST /v1beta1/publishers/google/models/{model}:predictLongRunning`
  `{"instances": [{"prompt", "image"?: {"bytesBase64Encoded", "mimeType"}, "video"?: {...}}],
    "parameters": {"sampleCount", "aspectRatio", "resolution", "durationSeconds", "generateAudio"?, "seed"?}}`
  -> `{"name": "projects/{p}/locations/us-central1/publishers/google/models/{model}/operations/{id}"}`.
- `POST /v1beta1/{resource}:fetchPredictOperation` `{"operationName": name}`, where `resource` is the
  name before `/operations/` -> `{"name", "done": false}` while rendering, then `{"name", "done": true,
  "response": {"@type": "...GenerateVideoResponse", "videos": [{"bytesBase64Encoded", "mimeType"}],
  "raiMediaFilteredCount": 0}}`, or `{"name", "done": true, "error": {"code", "message"}}`.
  With `storage_to_gcs` set the video is `{"gcsUri": "gs://...", "mimeType"}` instead of bytes.
- There is no cancel, delete or list. Errors: `{"error": {"code", "message", "status"}}`.
"""

from __future__ import annotations

import base64
from typing import Any

from tests.fakes._server import Answer, FakeJob, FakeVendor, shape_of

KEY = "veo-test-key"
PROJECT = "projects/fake-project/locations/us-central1"


class FakeVertexVeo(FakeVendor):
    storage_to_gcs = False
    filter_next = False
    """The next job finishes with no video, filtered by Responsible AI."""

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        if headers.get("x-goog-api-key") != KEY:
            return _error(401, "API key not valid. Please pass a valid API key.", "UNAUTHENTICATED")
        if method != "POST" or not path.startswith("/v1beta1/"):
            return _error(404, f"no route {method} {path}", "NOT_FOUND")
        resource, _, verb = path.removeprefix("/v1beta1/").partition(":")
        if verb == "predictLongRunning":
            return self._create(resource.rsplit("/", 1)[1], body)
        if verb == "fetchPredictOperation":
            name = str((body or {}).get("operationName", ""))
            job = self.jobs.get(name.rpartition("/operations/")[2])
            if job is None or (not name.startswith(resource.replace(PROJECT + "/", "", 1)) and resource not in name):
                return _error(404, f"Operation {name} not found", "NOT_FOUND")
            return Answer(200, self._operation(self.advance(job), name))
        return _error(404, f"no route {method} {path}", "NOT_FOUND")

    def _create(self, model: str, body: Any) -> Answer:
        instance = ((body or {}).get("instances") or [{}])[0]
        parameters = (body or {}).get("parameters") or {}
        if not instance.get("prompt") and not instance.get("image"):
            return _error(400, "A prompt or an image is required.", "INVALID_ARGUMENT")
        job = FakeJob(self.new_id("op"), model, {"instance": instance, "parameters": parameters},
                      shape_of(str(parameters.get("aspectRatio", "16:9"))))
        if self.filter_next:
            job.fail_with, self.filter_next = "rai", False
        lost = self.add_job(job)
        return lost or Answer(200, {"name": f"{PROJECT}/publishers/google/models/{model}/operations/{job.id}"})

    def _operation(self, job: FakeJob, name: str) -> dict[str, Any]:
        if job.state in ("queued", "running"):
            return {"name": name, "done": False}
        if job.fail_with == "rai":
            return {"name": name, "done": True, "response": {"videos": [], "raiMediaFilteredCount": 1,
                                                             "raiMediaFilteredReasons": ["celebrity likeness"]}}
        if job.state == "failed":
            return {"name": name, "done": True, "error": {"code": 3, "message": job.fail_with}}
        if self.storage_to_gcs:
            video = {"gcsUri": f"gs://fake-bucket/{job.id}/sample_0.mp4", "mimeType": "video/mp4"}
        else:
            video = {"bytesBase64Encoded": base64.b64encode(self.video_bytes(job)).decode(), "mimeType": "video/mp4"}
        return {"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
            "videos": [video], "raiMediaFilteredCount": 0}}


def _error(code: int, message: str, status: str) -> Answer:
    return Answer(code, {"error": {"code": code, "message": message, "status": status}})
