"""The engine's jobs: their records, the worker pool that renders them, and the index on disk.

The index (`index.json` in the data folder) is rewritten atomically at every status change, so an
engine restarted after a crash knows every video it made. Jobs that were queued or rendering when
it stopped are queued again from the start: a render is deterministic, so the result is the same.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dailies.files import write_text

from .encoding import Encoding
from .faults import FaultPlan

log = logging.getLogger(__name__)


@dataclass
class EngineJob:
    id: str
    kind: str  # generate | remix | extend | edit
    model: str
    prompt: str
    size: str
    seconds: int
    seed: int
    created_at: int
    status: str = "queued"
    progress: int = 0
    completed_at: int | None = None
    expires_at: int | None = None
    error: dict[str, Any] | None = None
    remixed_from_video_id: str | None = None
    source_id: str | None = None
    source_path: str | None = None
    reference_path: str | None = None
    look_prompt: str = ""
    motion_prompt: str = ""
    started_at: float | None = None
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The video object, shaped as the OpenAI Videos API returns it."""
        return {
            "id": self.id,
            "object": "video",
            "model": self.model,
            "status": self.status,
            "progress": self.progress,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "expires_at": self.expires_at,
            "size": self.size,
            "seconds": str(self.seconds),
            "prompt": self.prompt,
            "remixed_from_video_id": self.remixed_from_video_id,
            "error": self.error,
        }


def new_id(prefix: str) -> str:
    """Sortable ids: milliseconds, then randomness."""
    return f"{prefix}_{int(time.time() * 1000):012x}{os.urandom(6).hex()}"


SWEEP_EVERY_S = 60.0
"""How often expired assets are looked for (and once at start)."""

class JobBook:
    """Every job the engine knows, the render queue, and the workers. Thread-safe."""

    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int,
        lifetime_s: int,
        min_job_s: float,
        faults: FaultPlan,
        job_s_range: tuple[float, float] | None = None,
        encoding: Encoding | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.videos_dir = data_dir / "videos"
        self.uploads_dir = data_dir / "uploads"
        for folder in (self.videos_dir, self.uploads_dir, data_dir / "characters"):
            folder.mkdir(parents=True, exist_ok=True)
        self.index_path = data_dir / "index.json"
        self.lifetime_s = lifetime_s
        self.min_job_s = min_job_s
        self.job_s_range = job_s_range
        self.faults = faults
        self.encoding = encoding or Encoding()
        self.worker_count = max(1, workers)
        self._lock = threading.RLock()
        self._jobs: dict[str, EngineJob] = {}
        self.characters: dict[str, dict[str, Any]] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.on_finish: Callable[[EngineJob], None] | None = None
        """Told of each job that completes or fails (the engine's webhook deliveries)."""
        self._load()

    # -- persistence -------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            data = json.loads(self.index_path.read_text())
        except FileNotFoundError:
            return
        except ValueError:
            backup = self.index_path.with_suffix(f".corrupt-{int(time.time())}")
            os.replace(self.index_path, backup)
            log.warning("engine index unreadable; kept aside as %s", backup.name)
            return
        for raw in data.get("jobs", []):
            job = EngineJob(**raw)
            if job.status in ("queued", "in_progress"):
                job.status, job.progress, job.started_at = "queued", 0, None
                self._queue.put(job.id)
            self._jobs[job.id] = job
        self.characters = dict(data.get("characters", {}))

    def save(self) -> None:
        with self._lock:
            payload = json.dumps({"jobs": [asdict(j) for j in self._jobs.values()], "characters": self.characters})
            write_text(self.index_path, payload)

    # -- jobs --------------------------------------------------------------------------------------

    def add(self, job: EngineJob) -> EngineJob:
        with self._lock:
            self._jobs[job.id] = job
            self.save()
        self._queue.put(job.id)
        return job

    def get(self, job_id: str) -> EngineJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job if job and not job.deleted else None

    def listed(self) -> list[EngineJob]:
        with self._lock:
            return sorted((j for j in self._jobs.values() if not j.deleted), key=lambda j: (j.created_at, j.id))

    def delete(self, job_id: str) -> EngineJob | None:
        with self._lock:
            job = self.get(job_id)
            if job is None:
                return None
            job.deleted = True
            del self._jobs[job_id]
            self.save()
        shutil.rmtree(self.videos_dir / job_id, ignore_errors=True)
        return job

    def folder(self, job_id: str) -> Path:
        return self.videos_dir / job_id

    def sweep_expired(self, now: float | None = None) -> int:
        """Delete the files of jobs whose assets expired (the API promised they would go); the record stays,
        so content still answers `video_expired`. The number of jobs whose files were deleted."""
        with self._lock:
            gone = [job for job in self._jobs.values() if expired(job, now) and self.folder(job.id).exists()]
        for job in gone:
            shutil.rmtree(self.folder(job.id), ignore_errors=True)
        return len(gone)

    def _sweep_until_closed(self) -> None:
        while True:
            try:
                self.sweep_expired()
            except OSError:
                log.exception("sweeping expired assets failed")
            if self._stopping.wait(SWEEP_EVERY_S):
                return

    def queue_position(self, job_id: str) -> int:
        return self._queue.qsize()

    # -- workers -----------------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._threads:
                return
            self._stopping.clear()
            for n in range(self.worker_count):
                thread = threading.Thread(target=self._work, name=f"dailies-engine-{n}", daemon=True)
                thread.start()
                self._threads.append(thread)
            threading.Thread(target=self._sweep_until_closed, name="dailies-engine-sweep", daemon=True).start()

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=30)
        # Anything still queued stays queued in the index and is rendered after a restart.

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            job = self.get(job_id)
            if job is None or job.status != "queued":
                continue
            try:
                self._render(job)
            except Exception as exc:  # a render bug fails that job, not the worker
                log.exception("render of %s failed", job.id)
                self._finish(job, error={"code": "render_error", "message": f"The engine failed: {exc}"})

    def _render(self, job: EngineJob) -> None:
        with self._lock:
            job.status, job.progress, job.started_at = "in_progress", 1, time.time()
            self.save()
        blocked = self.faults.blocked_term(job.prompt)
        if blocked:
            self._pace(job, 0.3)
            self._finish(
                job,
                error={
                    "code": "moderation_blocked",
                    "message": f"The prompt was blocked by the engine's moderation list (it mentions {blocked!r}).",
                },
            )
            return
        fail = self.faults.fail_job()
        paced_s = self.job_seconds(job)
        out = self.folder(job.id)
        scratch = Path(tempfile.mkdtemp(prefix=f".{job.id}.", dir=self.videos_dir))

        def progress(fraction: float) -> None:
            # A paced job reports the share of its known duration, so that progress (and the poll
            # hint made from it) tells the truth about when it will finish.
            if paced_s > 0 and job.started_at is not None:
                fraction = min(fraction, (time.time() - job.started_at) / paced_s)
            with self._lock:
                job.progress = max(job.progress, min(98, int(fraction * 100 * (0.5 if fail else 1))))

        try:
            self._run_render(job, scratch, progress)
            if fail:
                self._finish(
                    job,
                    error={
                        "code": "render_failed",
                        "message": "The engine failed to render this video (injected fault).",
                    },
                )
                return
            self._pace(job, paced_s)
            shutil.rmtree(out, ignore_errors=True)
            os.replace(scratch, out)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self._finish(job)

    def _run_render(self, job: EngineJob, scratch: Path, progress: Any) -> None:
        # PyAV, NumPy and Pillow load with the first render rather than with the engine: the app's start
        # (which mounts the engine) is a tenth of a second sooner, and a render does not notice.
        from PIL import Image

        from .render import ENGINE_NAME, RenderSpec, render_edit, render_extension, render_generate

        width, height = (int(v) for v in job.size.split("x"))
        metadata = {
            "title": job.prompt[:500],
            "comment": f"Rendered by {ENGINE_NAME} for job {job.id}. Prompt: {job.prompt[:1000]}",
            "description": f"dailies preview · job {job.id}",
            "artist": ENGINE_NAME,
        }
        spec = RenderSpec(
            width, height, job.seconds, job.seed, job.look_prompt or job.prompt, job.motion_prompt or job.prompt
        )
        encoding = self.encoding
        if job.kind in ("generate", "remix"):
            reference = None
            if job.reference_path:
                with Image.open(job.reference_path) as image:
                    reference = image.convert("RGB")
            render_generate(spec, scratch, metadata, reference=reference, progress=progress, encoding=encoding)
        elif job.kind == "extend":
            spec = RenderSpec(width, height, int(job.extra.get("added_seconds", 4)), job.seed, job.prompt, job.prompt)
            render_extension(Path(job.source_path or ""), spec, scratch, metadata, progress=progress,
                             encoding=encoding)
        elif job.kind == "edit":
            render_edit(Path(job.source_path or ""), job.prompt, scratch, metadata, progress=progress,
                        encoding=encoding)
        else:
            raise ValueError(f"unknown kind {job.kind}")

    def job_seconds(self, job: EngineJob) -> float:
        """The least time this job takes: `min_job_s`, or more when a range is set (drawn from its seed)."""
        if self.job_s_range is None:
            return self.min_job_s
        low, high = self.job_s_range
        return max(self.min_job_s, low + (high - low) * random.Random(job.seed).random())

    def _pace(self, job: EngineJob, seconds: float) -> None:
        """Hold a job in progress until it has taken `seconds` since it started, progress rising."""
        assert job.started_at is not None
        while True:
            elapsed = time.time() - job.started_at
            if elapsed >= seconds:
                return
            with self._lock:
                job.progress = max(job.progress, min(98, int(elapsed / seconds * 100)))
            time.sleep(min(0.1, seconds - elapsed))

    def _finish(self, job: EngineJob, error: dict[str, Any] | None = None) -> None:
        with self._lock:
            now = int(time.time())
            job.completed_at = now
            if error:
                job.status, job.error = "failed", error
            else:
                job.status, job.progress = "completed", 100
                job.expires_at = now + self.lifetime_s
            self.save()
        if self.on_finish is not None:
            self.on_finish(job)


def random_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31)


def expired(job: EngineJob, now: float | None = None) -> bool:
    return job.expires_at is not None and (now or time.time()) >= job.expires_at
