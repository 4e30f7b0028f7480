"""What every vendor fake shares: a threaded HTTP server on loopback, jobs that advance one step per
poll, real MP4s from the engine's renderer, and a switch that loses a create's answer.

Each vendor module (`runway.py`, `replicate.py`, `fal.py`, `google.py`) documents its own wire format
at its top and implements `route(method, path, query, body, headers) -> Answer`. A job's life:
created (queued) -> the first poll after creation makes it running -> the `polls_to_finish`-th poll
renders the video with `dailies.engine.render.render_generate` and marks it done. Every request is
recorded in `requests`, so a test can count creates.

Callbacks: a job created with a callback URL (Replicate's `webhook`, fal's `fal_webhook`) also runs on
its own clock: it finishes `run_s` after its create even if nobody polls, and when it ends (by the clock
or by a poll) the fake posts the vendor's signed callback to that URL (`signed_callback`, per vendor),
retrying a failed delivery a few times. Every attempt is recorded in `deliveries`.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from dailies.engine.render import RenderSpec, render_generate

TINY = {"landscape": (160, 90), "portrait": (90, 160), "square": (96, 96)}


def multipart_files(body: Any, content_type: str) -> dict[str, tuple[str, str, bytes]]:
    """A multipart/form-data body's parts: field name -> (file name, content type, bytes)."""
    import email.parser
    import email.policy

    if not isinstance(body, bytes) or "multipart/form-data" not in content_type:
        return {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            parts[str(name)] = (part.get_filename() or "", part.get_content_type(),
                                part.get_payload(decode=True) or b"")
    return parts


@lru_cache(maxsize=8)
def render_mp4(shape: str, seconds: float = 1.0, prompt: str = "a fake vendor take") -> bytes:
    """A real, small H.264 MP4 from the engine's renderer (cached: tests only need it to be real)."""
    width, height = TINY[shape]
    with tempfile.TemporaryDirectory() as folder:
        spec = RenderSpec(width, height, seconds, 7, prompt, prompt)
        outputs = render_generate(spec, Path(folder), {"title": prompt})
        return outputs.video.read_bytes()


def shape_of(ratio_or_size: str) -> str:
    """`"16:9"`, `"1280:720"`, `"1280x720"` -> landscape/portrait/square, for the tiny render."""
    for sep in (":", "x"):
        left, found, right = ratio_or_size.partition(sep)
        if found and left.replace(".", "").isdigit() and right.replace(".", "").isdigit():
            w, h = float(left), float(right)
            return "landscape" if w > h else "portrait" if h > w else "square"
    return "landscape"


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    """Bytes to send as they are (a video), instead of JSON."""
    drop: bool = False
    """Close the connection without answering (the create's answer is lost)."""


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeJob:
    id: str
    model: str
    input: dict[str, Any]
    shape: str = "landscape"
    seconds: float = 1.0
    polls: int = 0
    state: str = "queued"
    """queued, running, done, failed, cancelled, deleted."""
    fail_with: str | None = None
    callback: str | None = None
    """Where to post the signed callback when the job ends (None: the vendor was not asked for one)."""
    announced: bool = False


@dataclass
class Delivered:
    """One attempt at delivering a callback: what was sent, and the answer (None: no connection)."""

    url: str
    body: bytes
    headers: dict[str, str]
    status: int | None


FINAL = ("done", "failed", "cancelled")


class FakeVendor:
    """Base of the vendor fakes: serve on 127.0.0.1, keep jobs, advance them as they are polled."""

    polls_to_finish = 2
    run_s = 0.5
    """How long a job with a callback URL takes on its own clock."""
    delivery_attempts = 3
    retry_s = 0.2

    def __init__(self) -> None:
        self.jobs: dict[str, FakeJob] = {}
        self.requests: list[Recorded] = []
        self.deliveries: list[Delivered] = []
        self.lose_next_create: str | None = None
        """"drop" closes the connection after recording the job; "503" answers 503 after recording it."""
        self.fail_next: str | None = None
        """The next job created fails with this message."""
        self.hold_creates: threading.Event | None = None
        """When set to an event, a create is recorded, then answered only once the event is set (a create
        still in flight while a test changes something)."""
        self.lock = threading.RLock()
        self._count = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeVendor:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                parts = urlsplit(self.path)
                record = Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                with fake.lock:
                    fake.requests.append(record)
                answer = fake.route(self.command, parts.path, record.query, body, record.headers)
                if answer.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                payload = answer.raw if answer.raw is not None else (
                    b"" if answer.body is None else json.dumps(answer.body).encode()
                )
                self.send_response(answer.status)
                content_type = "video/mp4" if answer.raw is not None else "application/json"
                headers = {"Content-Type": content_type, **answer.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeVendor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- jobs --------------------------------------------------------------------------------------

    def new_id(self, prefix: str = "") -> str:
        with self.lock:
            self._count += 1
            return f"{prefix}{self._count:04d}fake"

    def add_job(self, job: FakeJob) -> Answer | None:
        """Keep a new job; the answer to send instead of the normal one when the create is to be lost."""
        with self.lock:
            if self.fail_next:
                job.fail_with, self.fail_next = self.fail_next, None
            self.jobs[job.id] = job
            lose, self.lose_next_create = self.lose_next_create, None
            hold = self.hold_creates
        if hold is not None:
            hold.wait(60)
        if lose == "drop":
            return Answer(drop=True)
        if lose == "503":
            return Answer(503, {"error": "upstream unavailable", "detail": "<html>nginx</html>"})
        return None

    def advance(self, job: FakeJob) -> FakeJob:
        """One poll's worth of progress: queued -> running -> done (rendered) or failed."""
        with self.lock:
            if job.state in ("queued", "running"):
                job.polls += 1
                if job.polls >= self.polls_to_finish:
                    job.state = "failed" if job.fail_with else "done"
                else:
                    job.state = "running"
        if job.state == "done":
            render_mp4(job.shape, job.seconds)
        self.announce(job)
        return job

    # -- callbacks ---------------------------------------------------------------------------------

    def run_on_own_clock(self, job: FakeJob) -> None:
        """A job that has a callback URL finishes `run_s` from now though nobody polls it."""
        if job.callback:
            timer = threading.Timer(self.run_s, self._finish, args=(job,))
            timer.daemon = True
            timer.start()

    def _finish(self, job: FakeJob) -> None:
        with self.lock:
            if job.state in ("queued", "running"):
                job.state = "failed" if job.fail_with else "done"
        if job.state == "done":
            render_mp4(job.shape, job.seconds)
        self.announce(job)

    def announce(self, job: FakeJob) -> None:
        """Post the job's signed callback once, when it has ended and asked for one (in the background)."""
        with self.lock:
            if job.announced or not job.callback or job.state not in FINAL:
                return
            job.announced = True
        threading.Thread(target=self._deliver, args=(job,), daemon=True).start()

    def _deliver(self, job: FakeJob) -> None:
        assert job.callback
        for attempt in range(self.delivery_attempts):
            body, headers = self.signed_callback(job)  # signed afresh for each attempt, as vendors do
            try:
                status: int | None = httpx.post(job.callback, content=body, headers=headers, timeout=10).status_code
            except httpx.HTTPError:
                status = None
            with self.lock:
                self.deliveries.append(Delivered(job.callback, body, headers, status))
            if status is not None and 200 <= status < 300:
                return
            time.sleep(self.retry_s * (2**attempt))

    def signed_callback(self, job: FakeJob) -> tuple[bytes, dict[str, str]]:  # pragma: no cover - per vendor
        """The callback's body and headers, signed the vendor's way."""
        raise NotImplementedError

    def video_bytes(self, job: FakeJob) -> bytes:
        return render_mp4(job.shape, job.seconds)

    def creates(self, path_part: str) -> list[Recorded]:
        """Create requests recorded so far (POSTs whose path contains `path_part`)."""
        with self.lock:
            return [r for r in self.requests if r.method == "POST" and path_part in r.path]

    def route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]
    ) -> Answer:  # pragma: no cover - each vendor answers
        raise NotImplementedError
