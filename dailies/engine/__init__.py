"""The embedded engine: a local server that speaks the OpenAI Videos API and renders real MP4s.

It is a preview renderer, and says so: its models are `dailies-preview` and `dailies-preview-pro`
(Sora's model names are accepted as aliases), `/v1/models` lists them as owned by
`dailies-local-preview`, and every frame carries a visible watermark. No weights, no network.

    engine = Engine(EngineConfig(data_dir=Path(".dailies/engine")))
    engine.start()          # worker threads; mount `engine.app` anywhere (routes are under /v1)
    ...
    engine.close()

`serve_engine(config)` runs one on a loopback port in a background thread (tests, the CLI).

It is the other side of the wire: it imports only the core's leaf modules (`videos_spec`, `files`, `media`,
`request_bodies`, `backoff`, `retry_queue`, `file_table`, `errors`, `config`, the store's `filelock`), never the
studio, the tracker, the store or a provider, so what it answers never depends on the client it is tested against.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from dailies.config import host_of, is_loopback_host

from .api import PREVIEW_MODEL, PREVIEW_PRO_MODEL, APIError, VideosAPI
from .encoding import Encoding
from .faults import FaultPlan, Faults
from .folder import EngineFolder, EngineFolderBusy
from .state import JobBook
from .webhooks import DeliveryPolicy, EngineWebhooks, WebhookFaults

__all__ = [
    "PREVIEW_MODEL",
    "PREVIEW_PRO_MODEL",
    "DeliveryPolicy",
    "Engine",
    "EngineConfig",
    "EngineFolderBusy",
    "Faults",
    "RunningEngine",
    "WebhookFaults",
    "create_app",
    "serve_engine",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    data_dir: Path
    api_key: str | None = field(default=None, repr=False)
    """When set, every request needs `Authorization: Bearer <key>` (OpenAI-style 401 otherwise)."""
    workers: int = 2
    lifetime_s: int = 24 * 3600
    """Assets expire this long after a job completes; content then answers 404 `video_expired`."""
    min_job_s: float = 0.0
    """Every job takes at least this long, progress rising (jobs of known render time)."""
    job_s_range: tuple[float, float] | None = None
    """Each job takes at least a time drawn from this range by its seed (same seeds, same job times:
    the polling benchmark); `min_job_s` still applies."""
    poll_after_ms: int | None = None
    """A fixed `openai-poll-after-ms` hint; None estimates the time left from the job's progress."""
    faults: Faults = field(default_factory=Faults)
    encoding: Encoding = field(default_factory=Encoding.from_environment)
    """Encoder threads per render (one: the worker pool gives the parallelism) and x264's preset (`veryfast`, or
    `DAILIES_ENGINE_PRESET`'s: see `render.Encoding`)."""
    allowed_hosts: tuple[str, ...] = ()
    """Names a request's `Host` may carry besides loopback ones (DNS rebinding is refused); "*" allows any."""
    webhook_faults: WebhookFaults = field(default_factory=WebhookFaults)
    """Deliveries dropped, delayed, duplicated or reordered on purpose (see `webhooks.py`)."""
    webhook_policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    """How often and how long a failing delivery is retried."""
    served_models: tuple[str, ...] = ()
    """Serve these model names instead of the engine's own, as a one-model server does (vLLM-Omni serving
    Wan 2.2, stood in for by the engine in docs/local-gpu.md's test): `/v1/models` lists only them, owned by
    `vllm`, and a create naming another is a 404. Still a preview render."""


class Engine:
    """The engine: its jobs, its workers, and `app`, a Starlette app with routes under `/v1`."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.folder = EngineFolder(config.data_dir)
        plan = FaultPlan(config.faults)
        self.book = JobBook(
            Path(config.data_dir),
            workers=config.workers,
            lifetime_s=config.lifetime_s,
            min_job_s=config.min_job_s,
            job_s_range=config.job_s_range,
            faults=plan,
            encoding=config.encoding,
        )
        self.api = VideosAPI(self.book, plan, config.api_key, config.poll_after_ms, config.served_models)
        self.webhooks = EngineWebhooks(Path(config.data_dir), config.webhook_faults, config.webhook_policy)
        self.book.on_finish = self.webhooks.job_finished
        self.app = Starlette(
            routes=[*self.api.routes(), *self.webhooks.routes(self.api.gate)],
            middleware=[Middleware(HostGuard, allowed=config.allowed_hosts)],
            exception_handlers={
                APIError: _api_error,
                HTTPException: _http_error,
                Exception: _server_error,
            },
        )

    def start(self, base_url: str | None = None) -> None:
        """Take the engine folder (`EngineFolderBusy` when another engine has it) and start rendering.

        `base_url`, where this engine answers, is recorded in the folder for other processes to find.
        """
        self.folder.acquire()
        try:
            if base_url:
                self.folder.publish(base_url, self.config.api_key)
            self.book.start()
            self.webhooks.start()
        except BaseException:
            self.folder.release()
            raise

    def close(self) -> None:
        self.book.close()
        self.webhooks.close()
        self.folder.release()


class HostGuard:
    """Refuses requests whose `Host` is not this server (DNS rebinding) or that a foreign web page sent.

    A page on evil.example can make a team member's browser POST a form to 127.0.0.1, or rebind its own
    name to 127.0.0.1 and read the answers; the first carries a foreign `Origin`, the second a foreign
    `Host`. Clients of the API (httpx, the openai package) send neither.
    """

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed}

    def allows(self, host: str) -> bool:
        return "*" in self.allowed or is_loopback_host(host) or host.lower() in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            host = host_of(headers.get("host", ""))
            origin = headers.get("origin")
            refusal = None
            if not self.allows(host):
                refusal = APIError(421, f"This engine does not answer for the host {host!r}.", code="wrong_host")
            elif origin is not None and not self.allows(host_of(origin.split("://", 1)[-1])):
                refusal = APIError(403, "Requests sent by another site's web page are refused.",
                                   code="cross_origin")
            if refusal is not None:
                await refusal.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return APIError(
        exc.status_code,
        f"{exc.detail}: {request.method} {request.url.path}",
        code="not_found" if exc.status_code == 404 else None,
    ).response()


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("engine error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {
            "error": {
                "message": f"The engine failed: {type(exc).__name__}",
                "type": "server_error",
                "param": None,
                "code": "server_error",
            }
        },
        status_code=500,
    )


def create_app(config: EngineConfig, base_url: str | None = None) -> Starlette:
    """A standalone app whose lifespan starts and stops the engine's workers (answering at `base_url`)."""
    engine = Engine(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine.start(base_url)
        try:
            yield
        finally:
            engine.close()

    app = Starlette(lifespan=lifespan)
    app.mount("/", engine.app)
    app.state.engine = engine
    return app


from .server import RunningEngine, serve_engine  # noqa: E402  (server imports Engine from here)
