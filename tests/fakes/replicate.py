"""A fake of Replicate's predictions API, as `replicate` 1.0.7 speaks it (PROVIDERS.md §2).

Wire format (JSON; every request carries `Authorization: Bearer <token>`):

- `POST /v1/models/{owner}/{name}/predictions` `{"input": {...}}` -> `201` and the prediction.
- `GET /v1/predictions/{id}` -> the prediction; `POST /v1/predictions/{id}/cancel` -> the prediction,
  now `canceled` if it was still running.
- `GET /v1/predictions` -> `{"results": [...], "next": null, "previous": null}` (the health check).
- A prediction: `{id, model, version, status, input, output, logs, error, created_at, urls}`. The SDK's
  pydantic model requires `id`, `model`, `version` and `status`; `version` is `"hidden"` for
  official models. `status` is `starting` | `processing` | `succeeded` | `failed` | `canceled`.
  While processing, `logs` carries a tqdm line (`" 50%|█████     | 1/2 [00:01<00:01]"`), the only
  progress the SDK can read. `output` is one URL string for video models. `aborted` (a deadline passed
  before the prediction started) is a status the API documents and 1.0.7's pydantic model rejects;
  `abort_next` makes the next prediction answer it.
- Outputs are served at `GET /outputs/{id}.mp4` with no token (standing in for replicate.delivery).
- Errors are RFC 7807 problem details: `{"title", "detail", "status"}`
  (https://replicate.com/docs/reference/http#errors; the SDK's `ReplicateError.from_response`).
- `aborted` (https://replicate.com/docs/topics/predictions/lifecycle) shows up in the list (the health
  check) and in the answer to a cancel as well as in a get: the SDK cannot parse it in any of them.
- Inputs are checked against each model's `openapi_schema` as hand-kept in `tests/fakes/schemas.py`:
  an unknown input or an enum value out of range is `422` "Input validation failed". Seedance left without
  `resolution` renders 1080p (its default), recorded in `rendered`.
- 429: Replicate throttles creates per account (https://replicate.com/docs/reference/http#rate-limits)
  with `429 {"detail": "Request was throttled. Expected available in N seconds.", "status": 429}`
  (`throttle_next`). Concurrency above the account's limit otherwise waits as `starting`.
- Data URLs: Replicate advises them only under 1 MB (https://replicate.com/docs/topics/predictions/input-files)
  and does not document a hard cap: the fake refuses one over 10 MB (a guess at where it breaks), and
  records the largest it took in `largest_data_url`.
- Files: `POST /v1/files` (multipart/form-data, the file in the `content` part, as the SDK's `files.create`
  sends it) -> `201` and the file object `{id, name, content_type, size, etag, checksums, metadata, created_at,
  expires_at, urls: {get}}` (https://replicate.com/docs/reference/http#files.create); a file over 100 MiB is
  413. A create whose input names `urls.get` of a file the fake does not have is 422; each one it has is
  recorded in `file_inputs`. `GET /v1/files/{id}` answers the object, `/download` the bytes.
- Subject references (Kling 1.6's `reference_images`): a list of data URLs or file URLs, at most
  `REPLICATE_REFERENCE_CAP` (the model's page as last read, unverified); more is 422.
- Output URLs expire an hour after the prediction ends (https://replicate.com/docs/topics/predictions/data-retention);
  `expire_outputs` makes them 404.
- `GET /v1/models/{owner}/{name}` -> the model, its `latest_version.openapi_schema` holding the inputs as
  `components.schemas.Input` (enums behind `allOf: [$ref]`, as Cog writes them;
  https://replicate.com/docs/reference/http#models.get), built from `tests/fakes/schemas.py`.
  `unpublished` names models answered 404 (a retired model).
- `GET /v1/webhooks/default/secret` -> `{"key": "whsec_<base64>"}`, the account's signing secret.
- A create with `webhook` (and `webhook_events_filter` naming `completed`, or no filter) gets the
  finished prediction posted there, Standard Webhooks signed with that secret: headers `webhook-id`
  (the same for every retry of one delivery), `webhook-timestamp`, `webhook-signature` (`v1,<base64>`).
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

from tests.fakes._server import Answer, FakeJob, FakeVendor, multipart_files, shape_of
from tests.fakes.schemas import REPLICATE as SCHEMAS
from tests.fakes.schemas import REPLICATE_REFERENCE_CAP, openapi_input

KEY = "r8_test_token"
MAX_FILE_BYTES = 100 * 2**20
"""The files API's cap per file (https://replicate.com/docs/topics/predictions/input-files: 100 MiB)."""


class FakeReplicate(FakeVendor):
    abort_next = False

    def __init__(self) -> None:
        super().__init__()
        self.aborted: set[str] = set()
        self.throttle_next: int | None = None
        self.expire_outputs = False
        self.rendered: dict[str, str] = {}
        self.largest_data_url = 0
        self.unpublished: set[str] = set()
        self.secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
        self.files: dict[str, tuple[str, str, bytes]] = {}
        """Uploaded files by id: (name, content type, bytes)."""
        self.file_inputs: list[str] = []
        """Each input value that named an uploaded file, as the creates sent it."""

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        if path.startswith("/outputs/") and method == "GET":
            job = self.jobs.get(path.removeprefix("/outputs/").removesuffix(".mp4"))
            if job is None or job.state != "done" or self.expire_outputs:
                return Answer(404, {"title": "Not found", "detail": "Not found", "status": 404})
            return Answer(200, raw=self.video_bytes(job))
        if headers.get("Authorization") != f"Bearer {KEY}":
            return Answer(401, {"title": "Unauthenticated", "detail": "Invalid token.", "status": 401})
        parts = path.strip("/").split("/")
        if method == "GET" and parts == ["v1", "webhooks", "default", "secret"]:
            return Answer(200, {"key": self.secret})
        if method == "GET" and len(parts) == 4 and parts[:2] == ["v1", "models"]:
            return self._model(f"{parts[2]}/{parts[3]}")
        if parts[:2] == ["v1", "files"]:
            return self._file(method, parts[2:], body, headers)
        if method == "POST" and len(parts) == 5 and parts[:2] == ["v1", "models"] and parts[4] == "predictions":
            return self._create(f"{parts[2]}/{parts[3]}", body)
        if parts[:2] == ["v1", "predictions"]:
            if len(parts) == 2 and method == "GET":
                for job in self.jobs.values():
                    if job.id in self.aborted:
                        job.state = "aborted"
                return Answer(200, {"results": [self._prediction(j) for j in self.jobs.values()], "next": None,
                                    "previous": None})
            job = self.jobs.get(parts[2]) if len(parts) >= 3 else None
            if job is None:
                return Answer(404, {"title": "Not found", "detail": "Prediction not found", "status": 404})
            if len(parts) == 3 and method == "GET":
                if job.id in self.aborted:
                    job.state = "aborted"
                return Answer(200, self._prediction(self.advance(job)))
            if len(parts) == 4 and parts[3] == "cancel" and method == "POST":
                if job.id in self.aborted:
                    job.state = "aborted"
                if job.state in ("queued", "running"):
                    job.state = "cancelled"
                return Answer(200, self._prediction(job))
        return Answer(404, {"title": "Not found", "detail": f"no route {method} {path}", "status": 404})

    def _file(self, method: str, rest: list[str], body: Any, headers: dict[str, str]) -> Answer:
        """`POST /v1/files` (multipart, the file in `content`) -> the file object; `GET /v1/files/{id}` -> it
        again; `GET /v1/files/{id}/download` -> the bytes."""
        if method == "POST" and not rest:
            content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
            upload = multipart_files(body, content_type).get("content")
            if upload is None:
                return Answer(400, {"title": "Bad request", "detail": "content is required", "status": 400})
            if len(upload[2]) > MAX_FILE_BYTES:
                return Answer(413, {"title": "Request too large", "detail": "File too large", "status": 413})
            file_id = self.new_id("file")
            self.files[file_id] = upload
            return Answer(201, self._file_object(file_id))
        file_id = rest[0] if rest else ""
        if file_id not in self.files:
            return Answer(404, {"title": "Not found", "detail": "File not found", "status": 404})
        if method == "GET" and rest[1:] == ["download"]:
            return Answer(200, raw=self.files[file_id][2])
        return Answer(200, self._file_object(file_id))

    def _file_object(self, file_id: str) -> dict[str, Any]:
        import hashlib

        name, content_type, data = self.files[file_id]
        return {"id": file_id, "name": name, "content_type": content_type, "size": len(data),
                "etag": hashlib.md5(data).hexdigest(), "checksums": {"sha256": hashlib.sha256(data).hexdigest()},
                "metadata": {}, "created_at": "2026-11-28T09:00:00.000Z", "expires_at": "2026-11-29T09:00:00.000Z",
                "urls": {"get": f"{self.base_url}/v1/files/{file_id}"}}

    def _model(self, model: str) -> Answer:
        schema = SCHEMAS.get(model)
        if schema is None or model in self.unpublished:
            return Answer(404, {"title": "Not found", "detail": "Model not found", "status": 404})
        inputs, components = openapi_input(schema, enum_refs=True)
        owner, name = model.split("/")
        version = {"id": "v" + "0" * 63, "created_at": "2026-11-01T00:00:00.000Z", "cog_version": "0.14.0",
                   "openapi_schema": {"openapi": "3.0.2", "info": {"title": "Cog", "version": "0.1.0"},
                                      "paths": {}, "components": {"schemas": {"Input": inputs, **components}}}}
        return Answer(200, {"url": f"https://replicate.com/{model}", "owner": owner, "name": name,
                            "description": "", "visibility": "public", "github_url": None, "paper_url": None,
                            "license_url": None, "run_count": 1, "cover_image_url": None, "default_example": None,
                            "latest_version": version})

    def _create(self, model: str, body: Any) -> Answer:
        model_input = (body or {}).get("input") if isinstance(body, dict) else None
        if not isinstance(model_input, dict) or not model_input.get("prompt"):
            return Answer(422, {"title": "Input validation failed", "detail": "input.prompt is required",
                                "status": 422})
        if self.throttle_next is not None:
            wait, self.throttle_next = self.throttle_next, None
            return Answer(429, {"title": "Request was throttled",
                                "detail": f"Request was throttled. Expected available in {wait} seconds.",
                                "status": 429})
        schema = SCHEMAS.get(model)
        if schema is not None and (problems := schema.problems(model_input)):
            return Answer(422, {"title": "Input validation failed",
                                "detail": "; ".join(f"{name}: {msg}" for name, msg, _ in problems), "status": 422})
        references = model_input.get("reference_images") or []
        if len(references) > REPLICATE_REFERENCE_CAP:
            return Answer(422, {"title": "Input validation failed", "status": 422,
                                "detail": f"reference_images: at most {REPLICATE_REFERENCE_CAP} images"})
        for value in [*model_input.values(), *references]:
            if isinstance(value, str) and value.startswith(f"{self.base_url}/v1/files/"):
                if value.rpartition("/")[2] not in self.files:
                    return Answer(422, {"title": "Input validation failed", "detail": f"file not found: {value}",
                                        "status": 422})
                self.file_inputs.append(value)
            if isinstance(value, str) and value.startswith("data:"):
                if len(value) > 10_000_000:
                    return Answer(413, {"title": "Request too large", "detail": "data URL too large", "status": 413})
                self.largest_data_url = max(self.largest_data_url, len(value))
        job = FakeJob(self.new_id("r8p"), model, model_input, shape_of(str(model_input.get("aspect_ratio", "16:9"))))
        events = body.get("webhook_events_filter") or ["completed"]
        if body.get("webhook") and "completed" in events:
            job.callback = str(body["webhook"])
        if schema is not None and "resolution" in schema.defaults:
            self.rendered[job.id] = str(model_input.get("resolution", schema.defaults["resolution"]))
        lost = self.add_job(job)
        self.run_on_own_clock(job)
        if self.abort_next:  # answered `starting` now, `aborted` when next asked
            self.aborted.add(job.id)
            self.abort_next = False
        return lost or Answer(201, self._prediction(job))

    def _prediction(self, job: FakeJob) -> dict[str, Any]:
        status = {"queued": "starting", "running": "processing", "done": "succeeded", "failed": "failed",
                  "cancelled": "canceled", "aborted": "aborted"}[job.state]
        prediction: dict[str, Any] = {
            "id": job.id,
            "model": job.model,
            "version": "hidden",
            "status": status,
            "input": job.input,
            "output": None,
            "logs": "",
            "error": None,
            "created_at": "2026-11-28T09:00:00.000Z",
            "urls": {"get": f"{self.base_url}/v1/predictions/{job.id}",
                     "cancel": f"{self.base_url}/v1/predictions/{job.id}/cancel"},
        }
        if status == "processing":
            pct = int(100 * job.polls / self.polls_to_finish)
            prediction["logs"] = f"starting\n{pct:3d}%|█████     | {job.polls}/{self.polls_to_finish} [00:01<00:01]"
        elif status == "succeeded":
            prediction["output"] = f"{self.base_url}/outputs/{job.id}.mp4"
        elif status == "failed":
            prediction["error"] = job.fail_with
        return prediction

    def signed_callback(self, job: FakeJob) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(self._prediction(job))
        return body.encode(), self.sign(body, f"msg_{job.id}")

    def sign(self, body: str, msg_id: str, at: float | None = None) -> dict[str, str]:
        """Standard Webhooks headers for `body` (tests sign their own stale or replayed deliveries with it)."""
        stamp = datetime.now(UTC) if at is None else datetime.fromtimestamp(int(at), tz=UTC)
        return {"content-type": "application/json", "webhook-id": msg_id,
                "webhook-timestamp": str(int(stamp.timestamp())),
                "webhook-signature": Webhook(self.secret).sign(msg_id, stamp, body)}
