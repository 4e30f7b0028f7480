"""The entry point: `streamlit run app.py` (what `scripts/start` runs).

This file is the server: Streamlit's own app (the pages, from `workbench.py`) with two routes of
ours mounted beside it in the same process: the embedded engine at `/engine/v1` (the default
provider, so no key and no network are needed) and the media folder at `/app/static/takes/...` (videos and
images play from URLs with Range support, never from bytes held in server memory).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import streamlit as st
from starlette.routing import Mount, Route

from components.runtime import ENGINE_MOUNT, FILES_ROUTE, serve_media_file
from dailies.config import Environment
from dailies.engine import Engine, EngineConfig

HERE = Path(__file__).resolve().parent
os.environ.setdefault("DAILIES_EMBEDDED_ENGINE", ENGINE_MOUNT)
engine = Engine(EngineConfig(data_dir=Environment.load().home / "engine"))


@contextlib.asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """Start the engine's workers with the server, and stop them and the tracker with it."""
    from components.runtime import close_studio

    engine.start()
    try:
        yield
    finally:
        close_studio()
        engine.close()


app = st.App(
    HERE / "workbench.py",
    routes=[Mount(ENGINE_MOUNT, app=engine.app), Route(FILES_ROUTE, serve_media_file)],
    lifespan=lifespan,
)
