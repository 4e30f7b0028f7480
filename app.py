"""The entry point: `streamlit run app.py` (what `scripts/start` runs).

This file is the server: Streamlit's own app (the pages, from `workbench.py`) with routes of ours
mounted beside it in the same process: the embedded engine at `/engine/v1` (the default provider, so
no key and no network are needed), the media folder at `/app/static/takes/...` (videos and images
play from URLs with Range support, never from bytes held in server memory), sign-in by access token,
webhook deliveries and the pipeline API (the web app of `dailies.web`, mounted at its paths). Every request, to
Streamlit's routes and ours alike, first passes `dailies.web.boundary` (the host it names, the page that sent it;
no framing by other pages).

It imports only Streamlit (and, of ours, the web layer's paths, its boundary and the patches, which import nothing
more): the server answers at once, and the engine, the studio and the modules behind our routes load in a background
thread while the first browser loads Streamlit's frontend (about a third of a second sooner to a first page). A
request to one of our routes, and the first page's studio, wait until that thread has settled which engine the
studio uses.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import secrets
import signal
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from components import streamlit_patches
from components.mounts import ENGINE_MOUNT, starting
from dailies.web.boundary import Boundary
from dailies.web.paths import WEB_PATHS

if TYPE_CHECKING:
    from dailies.web.settings import WebSettings

HERE = Path(__file__).resolve().parent
os.environ.setdefault("DAILIES_EMBEDDED_ENGINE", ENGINE_MOUNT)
log = logging.getLogger(__name__)

FIRST_PAGE_MODULES = ("components.sidebar", "components.identity", "components.job_card", "components.prompt_form",
                      "components.refresh", "components.text")
"""What the first page run imports besides the studio: loaded ahead, while the browser is still busy."""


class _Start:
    """The background start: the mounted engine (or another process's), then the studio and its tracker."""

    def __init__(self) -> None:
        self.settled = starting()
        self.engine: Any = None
        self.engine_started = False
        self.thread = threading.Thread(target=self._run, name="dailies-start", daemon=True)

    def _run(self) -> None:
        try:
            self._engine()
        except Exception:
            log.exception("Dailies could not start its engine; stopping")
            os.kill(os.getpid(), signal.SIGTERM)  # as a failed start before: the server does not stay up half-made
            return
        finally:
            self.settled.set()
        self._resume_jobs()

    def _engine(self) -> None:
        """Start the mounted engine; when another process's engine has the folder, use that one instead.

        The mounted engine answers only the studio of this process: a token made per start, never shown
        or stored, so that a web page a team member visits cannot start renders or read prompts.
        """
        from components.access import announce
        from components.runtime import served_hosts, set_engine_token
        from dailies.config import Environment
        from dailies.engine import Engine, EngineConfig, EngineFolderBusy

        announce()
        token = secrets.token_urlsafe(32)
        set_engine_token(token)
        self.engine = Engine(EngineConfig(data_dir=Environment.load().home / "engine", api_key=token,
                                          allowed_hosts=served_hosts()))
        try:
            self.engine.start(f"http://127.0.0.1:{st.get_option('server.port')}{ENGINE_MOUNT}/v1")
        except EngineFolderBusy as busy:
            if not busy.url:
                raise
            log.warning("%s This app uses it.", busy)
            os.environ["DAILIES_ENGINE_URL"] = busy.url
            if busy.key:
                os.environ["DAILIES_ENGINE_KEY"] = busy.key
            return
        self.engine_started = True

    def _resume_jobs(self) -> None:
        """Build the shared studio outside any session (its store opens in the background; its tracker
        resumes unfinished jobs once it has), ask what the first page shows, and load that page's modules."""
        # Outside a script run Streamlit warns once that there is no session; here that is the point.
        logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
        logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
        try:
            from components.runtime import studio
            from components.web import web_app

            shared = studio()
            shared.health()  # every page shows it: asked now, the first page finds the answer
            shared.capabilities()  # and Generate's model list
            for module in FIRST_PAGE_MODULES:
                importlib.import_module(module)
            shared.store.wait_ready()  # it opens once the first page is drawn (or a few seconds after the start)
            web_app()  # callbacks of takes ordered through the API before a restart go out without waiting
        except Exception:
            log.exception("resuming jobs at start failed; the first page will try again")

    async def ready(self) -> None:
        if not self.settled.is_set():
            await run_in_threadpool(self.settled.wait)

    async def web(self) -> ASGIApp:
        """The web app (`dailies.web`), once the start has settled; built now if the start thread has not yet."""
        await self.ready()
        from components.web import web_app

        return await run_in_threadpool(web_app)

    def close(self) -> None:
        from components.runtime import close_studio

        self.thread.join(timeout=30)
        close_studio()
        if self.engine_started:
            self.engine.close()


streamlit_patches.apply()
_start = _Start()


class _WebApp:
    """The web app's routes as Streamlit's server mounts them: each request handed over once the app is built."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            self.app = await _start.web()
        await self.app(scope, receive, send)


_web = _WebApp()


def _web_settings() -> WebSettings:
    """Read at the first request (the boundary's), from Streamlit's options: imported then."""
    from components.web import web_settings

    return web_settings()


async def _engine_app(scope: Any, receive: Any, send: Any) -> None:
    """The mounted engine, once started (another process's engine: this mount is not used, and 503s)."""
    await _start.ready()
    if not _start.engine_started:
        await Response("This app uses another process's engine.", status_code=503)(scope, receive, send)
        return
    await _start.engine.app(scope, receive, send)


@contextlib.asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """Start the engine and the studio beside the server, and stop them with it."""
    _start.thread.start()
    try:
        yield
    finally:
        await run_in_threadpool(_start.close)


app = st.App(
    HERE / "workbench.py",
    routes=[
        Mount(ENGINE_MOUNT, app=_engine_app),
        *(Route(path, _web) for path in WEB_PATHS),
    ],
    # every request: a foreign Host (421), another page's request (403), framing
    middleware=[Middleware(Boundary, settings=_web_settings)],
    lifespan=lifespan,
)
