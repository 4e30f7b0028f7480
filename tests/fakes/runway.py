"""A fake of Runway's task API, as `runwayml` 5.24.0 speaks it (see ../../docs via PROVIDERS.md §3).

Wire format (JSON, camelCase keys; every request carries `Authorization: Bearer <key>` and
`X-Runway-Version: 2024-11-06`):

- `POST /v1/text_to_video` `{model, promptText, ratio, duration, seed?}` and
  `POST /v1/image_to_video` `{model, promptImage, promptText?, ratio, duration}` -> `200 {"id": "<uuid>"}`.
- `GET /v1/tasks/{id}` -> `{id, status, createdAt}` with status `PENDING` | `THROTTLED` | `RUNNING`
  (+ `progress`, a fraction 0-1) | `SUCCEEDED` (+ `output: ["<signed url>"]`) | `FAILED` (+ `failure`,
  `failureCode`) | `CANCELLED`. An unknown id is `404 {"error": "Task not found"}`.
- `DELETE /v1/tasks/{id}` -> `204` (cancels a running task, deletes a finished one; a deleted task
  then answers 404).
- `GET /v1/organization` -> `{creditBalance, tier}` (the health check).
- Outputs are served at `GET /outputs/{id}.mp4` with no key (standing in for Runway's signed URLs).
- Errors: `{"error": "<message>"}` with 400/401/404/429/5xx (the SDK's `APIStatusError.body`); a refused
  input is 400 with `issues` (as Runway's docs show: https://docs.dev.runwayml.com/errors/errors/).
- Inputs are checked against the SDK's own create types (hand-kept in `tests/fakes/schemas.py`): an
  unknown input or a value out of range is 400. A data URI over 5 MB is 400 (the cap the SDK's
  `prompt_image` docstring names).
- Uploads, as `uploads.create_ephemeral` makes them (runwayml 5.24.0 resources/uploads.py): `POST /v1/uploads
  {filename, type: "ephemeral"}` -> `{runwayUri, uploadUrl, fields}`; then a multipart form POST to
  `uploadUrl` (no key: a presigned storage URL, served here at `/upload-bucket/{id}`) with the `fields` and
  the `file` -> 204. A create naming a `runway://` URI that was not uploaded is 400; each one that was is
  recorded in `file_inputs`. The size cap for uploads is not in the SDK: 16 MB here, unverified.
- Subject references: `references: [{uri}]` (the SDK's create types; Seedance 2 takes up to 9 on
  text_to_video): each a data URI, an https URL or an uploaded `runway://` URI; more than the model takes,
  or one that is none of those, is 400 with `issues`.
- THROTTLED: a task created above the account's concurrency stays THROTTLED until a slot frees
  (https://docs.dev.runwayml.com/usage/tiers/); `throttle_polls` keeps every new task THROTTLED for that
  many polls before it runs. It is Runway's queue: the task exists and must not be sent again.
- 429: too many creates at once, or the tier's daily generation cap (same page): `rate_limit_next` answers
  the next create `429 {"error": ...}`, with `Retry-After` when given (Runway does not document one for
  the daily cap: `None` sends none).
- Output URLs are signed and expire within 24-48 h (https://docs.dev.runwayml.com/api-details/outputs/);
  `expire_outputs` makes them 404, and a task fetched again gets fresh ones (here: the same).
"""

from __future__ import annotations

from typing import Any

from tests.fakes._server import Answer, FakeJob, FakeVendor, multipart_files, shape_of
from tests.fakes.schemas import RUNWAY_IMAGE, RUNWAY_REFERENCE_CAP, RUNWAY_TEXT

KEY = "rw-test-key"


DATA_URI_CAP = 5 * 1024 * 1024
UPLOAD_CAP = 16 * 1024 * 1024
"""Runway's cap for an image by URL, as its input docs were last read (unverified); taken for uploads too."""


class FakeRunway(FakeVendor):
    throttle_polls = 0

    def __init__(self) -> None:
        super().__init__()
        self.pending_uploads: dict[str, str] = {}
        self.uploads: dict[str, tuple[str, str, bytes]] = {}
        """Uploaded files by id: (name, content type, bytes)."""
        self.file_inputs: list[str] = []
        """Each `runway://` URI a create named."""

    rate_limit_next: tuple[str, str | None] | None = None
    """(message, Retry-After or None) for the next create."""
    expire_outputs = False

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        if path.startswith("/outputs/") and method == "GET":
            job = self.jobs.get(path.removeprefix("/outputs/").removesuffix(".mp4"))
            if job is None or job.state != "done" or self.expire_outputs:
                return Answer(404, {"error": "Not found"})
            return Answer(200, raw=self.video_bytes(job))
        if path.startswith("/upload-bucket/") and method == "POST":
            return self._put_upload(path.removeprefix("/upload-bucket/"), body, headers)
        if headers.get("Authorization") != f"Bearer {KEY}":
            return Answer(401, {"error": "Invalid API key"})
        if path == "/v1/uploads" and method == "POST":
            if not isinstance(body, dict) or not body.get("filename") or body.get("type") != "ephemeral":
                return Answer(400, {"error": "Validation of body failed",
                                    "issues": [{"path": ["filename"], "message": "Required"}]})
            upload_id = self.new_id("upl-")
            self.pending_uploads[upload_id] = str(body["filename"])
            return Answer(200, {"runwayUri": f"runway://{upload_id}", "uploadUrl": f"{self.base_url}/upload-bucket/"
                                f"{upload_id}", "fields": {"key": f"ephemeral/{upload_id}", "policy": "fake"}})
        if headers.get("X-Runway-Version") != "2024-11-06":
            return Answer(400, {"error": "X-Runway-Version header is required"})
        if method == "POST" and path in ("/v1/text_to_video", "/v1/image_to_video"):
            return self._create(path, body)
        if path == "/v1/organization" and method == "GET":
            return Answer(200, {"creditBalance": 1000, "tier": {"maxMonthlyCreditSpend": 100000, "models": {}}})
        if path.startswith("/v1/tasks/"):
            job = self.jobs.get(path.rsplit("/", 1)[1])
            if job is None or job.state == "deleted":
                return Answer(404, {"error": "Task not found"})
            if method == "GET":
                if job.state == "throttled":
                    job.polls += 1
                    if job.polls >= self.throttle_polls:
                        job.state, job.polls = "queued", 0
                    return Answer(200, {"id": job.id, "status": "THROTTLED", "createdAt": "2026-11-28T09:00:00.000Z"})
                return Answer(200, self._task(self.advance(job)))
            if method == "DELETE":
                job.state = "cancelled" if job.state in ("queued", "running", "throttled") else "deleted"
                return Answer(204)
        return Answer(404, {"error": f"no route {method} {path}"})

    def _create(self, path: str, body: Any) -> Answer:
        if not isinstance(body, dict) or not body.get("model") or not body.get("ratio"):
            return Answer(400, {"error": "model and ratio are required"})
        image = str(body.get("promptImage", ""))
        if path.endswith("image_to_video") and not image.startswith(("data:", "https:", "runway://")):
            return Answer(400, {"error": "promptImage must be an HTTPS URL, a Runway upload URI or a data URI"})
        references = body.get("references") or []
        if len(references) > RUNWAY_REFERENCE_CAP.get(str(body.get("model")), 0):
            return Answer(400, {"error": "Validation of body failed", "issues": [
                {"path": ["references"], "message": f"At most {RUNWAY_REFERENCE_CAP.get(str(body.get('model')), 0)} "
                                                    "references for this model"}]})
        named = [("promptImage", image)] + [(f"references.{n}.uri", str((ref or {}).get("uri", "")))
                                            for n, ref in enumerate(references)]
        for where, uri in named:
            if uri.startswith("runway://"):
                if uri.removeprefix("runway://") not in self.uploads:
                    return Answer(400, {"error": "Invalid asset", "issues": [{"path": where.split("."),
                                                                              "message": "Upload not found"}]})
                self.file_inputs.append(uri)
            elif where != "promptImage" and not uri.startswith(("data:image/", "https:")):
                return Answer(400, {"error": "Invalid asset", "issues": [{"path": where.split("."),
                                                                          "message": "Invalid image URI"}]})
            if uri.startswith("data:") and len(uri.partition(",")[2]) * 3 // 4 > DATA_URI_CAP:
                return Answer(400, {"error": "Invalid asset", "issues": [{"path": where.split("."),
                                                                          "message": "Data URI exceeds 5MB"}]})
        schema = (RUNWAY_IMAGE if path.endswith("image_to_video") else RUNWAY_TEXT).get(body["model"])
        if schema is None:
            return Answer(400, {"error": "Validation of body failed",
                                "issues": [{"path": ["model"], "message": "Invalid model for this endpoint"}]})
        if problems := schema.problems(body):
            return Answer(400, {"error": "Validation of body failed",
                                "issues": [{"path": [name], "message": msg} for name, msg, _ in problems]})
        if self.rate_limit_next is not None:
            (said, wait), self.rate_limit_next = self.rate_limit_next, None
            return Answer(429, {"error": said}, {"Retry-After": wait} if wait else {})
        job = FakeJob(self.new_id("task-"), body["model"], body, shape_of(body["ratio"]))
        if self.throttle_polls:
            job.state = "throttled"
        lost = self.add_job(job)
        return lost or Answer(200, {"id": job.id})

    def _put_upload(self, upload_id: str, body: Any, headers: dict[str, str]) -> Answer:
        """The storage form POST the SDK makes to `uploadUrl`: the `fields` Runway gave, then the `file` part."""
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        parts = multipart_files(body, content_type)
        if upload_id not in self.pending_uploads or "file" not in parts or "key" not in parts:
            return Answer(400, {"error": "bad upload"})
        if len(parts["file"][2]) > UPLOAD_CAP:
            return Answer(400, {"error": "EntityTooLarge"})
        self.pending_uploads.pop(upload_id)
        self.uploads[upload_id] = parts["file"]
        return Answer(204)

    def _task(self, job: FakeJob) -> dict[str, Any]:
        task: dict[str, Any] = {"id": job.id, "createdAt": "2026-11-28T09:00:00.000Z"}
        if job.state == "queued":
            task["status"] = "PENDING"
        elif job.state == "running":
            task.update(status="RUNNING", progress=round(job.polls / self.polls_to_finish, 2))
        elif job.state == "done":
            task.update(status="SUCCEEDED", output=[f"{self.base_url}/outputs/{job.id}.mp4"])
        elif job.state == "failed":
            task.update(status="FAILED", failure=job.fail_with, failureCode="SAFETY.INPUT.TEXT")
        else:
            task["status"] = "CANCELLED"
        return task
