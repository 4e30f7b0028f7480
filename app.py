"""The entry point: `streamlit run app.py` (what `scripts/start` runs).

This file is the server: Streamlit's own app (the pages, from `workbench.py`) with two routes of
ours mounted beside it in the same process: the embedded engine at `/engine/v1` (the default
provider, so no key and no network are needed) and the media folder at `/app/static/takes/...` (videos and
images play from URLs with Range support, never from bytes held in server memory).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import streamlit as st
from starlette.routing import Mount, Route
from streamlit.runtime.pages_manager import PagesManager

from components.access import ACCESS_ROUTE, access_page, announce
from components.pipeline_route import PIPELINE_ROUTES, pipeline
from components.runtime import ENGINE_MOUNT, FILES_ROUTE, serve_media_file, served_hosts, set_engine_token
from components.webhook_route import HOOKS_ROUTE, receive_webhook
from dailies.config import Environment
from dailies.engine import Engine, EngineConfig, EngineFolderBusy

HERE = Path(__file__).resolve().parent
# `pages/` holds the pages `st.navigation` runs. Streamlit would otherwise take a `pages/` folder for an
# old-style multipage app until a session first runs `workbench.py`, so that a link straight to
# /variants after a restart would run that page alone, without the sidebar.
PagesManager.uses_pages_directory = False
os.environ.setdefault("DAILIES_EMBEDDED_ENGINE", ENGINE_MOUNT)
# The mounted engine answers only the studio of this process: a token made per start, never shown or stored,
# so that a web page a team member visits cannot start renders or read prompts (see HostGuard too).
_engine_token = secrets.token_urlsafe(32)
set_engine_token(_engine_token)
engine = Engine(EngineConfig(data_dir=Environment.load().home / "engine", api_key=_engine_token,
                             allowed_hosts=served_hosts()))


@contextlib.asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """Start the engine's workers with the server, and stop them and the tracker with it."""
    from components.runtime import close_studio

    announce()
    started = _start_engine()
    # Resume unfinished jobs now, not when the first page is opened: the tracker is the studio's.
    threading.Thread(target=_resume_jobs, name="dailies-resume", daemon=True).start()
    try:
        yield
    finally:
        close_studio()
        if started:
            engine.close()


def _start_engine() -> bool:
    """Start the mounted engine; when another process's engine has the folder, use that one instead."""
    port = st.get_option("server.port")
    try:
        engine.start(f"http://127.0.0.1:{port}{ENGINE_MOUNT}/v1")
    except EngineFolderBusy as busy:
        if not busy.url:
            raise
        logging.getLogger(__name__).warning("%s This app uses it.", busy)
        os.environ["DAILIES_ENGINE_URL"] = busy.url
        if busy.key:
            os.environ["DAILIES_ENGINE_KEY"] = busy.key
        return False
    return True


def _resume_jobs() -> None:
    """Build the shared studio (and start its tracker) outside any session."""
    from components.runtime import studio

    # Outside a script run Streamlit warns once that there is no session; here that is the point.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    studio()
    pipeline()  # callbacks of takes ordered through the API before a restart go out without waiting for a request


app = st.App(
    HERE / "workbench.py",
    routes=[Mount(ENGINE_MOUNT, app=engine.app), Route(FILES_ROUTE, serve_media_file),
            Route(ACCESS_ROUTE, access_page, methods=["GET", "POST"]),
            Route(HOOKS_ROUTE, receive_webhook, methods=["POST"]), *PIPELINE_ROUTES],
    lifespan=lifespan,
)
