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
- Errors: `{"error": "<message>"}` with 400/401/404/429/5xx.
"""

from __future__ import annotations

from typing import Any

from tests.fakes._server import Answer, FakeJob, FakeVendor, shape_of

KEY = "rw-test-key"


class FakeRunway(FakeVendor):
    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        if path.startswith("/outputs/") and method == "GET":
            job = self.jobs.get(path.removeprefix("/outputs/").removesuffix(".mp4"))
            if job is None or job.state != "done":
                return Answer(404, {"error": "Not found"})
            return Answer(200, raw=self.video_bytes(job))
        if headers.get("Authorization") != f"Bearer {KEY}":
            return Answer(401, {"error": "Invalid API key"})
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
                return Answer(200, self._task(self.advance(job)))
            if method == "DELETE":
                job.state = "cancelled" if job.state in ("queued", "running") else "deleted"
                return Answer(204)
        return Answer(404, {"error": f"no route {method} {path}"})

    def _create(self, path: str, body: Any) -> Answer:
        if not isinstance(body, dict) or not body.get("model") or not body.get("ratio"):
            return Answer(400, {"error": "model and ratio are required"})
        if path.endswith("image_to_video") and not str(body.get("promptImage", "")).startswith(("data:", "https:")):
            return Answer(400, {"error": "promptImage must be an HTTPS URL or a data URI"})
        job = FakeJob(self.new_id("task-"), body["model"], body, shape_of(body["ratio"]))
        lost = self.add_job(job)
        return lost or Answer(200, {"id": job.id})

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
