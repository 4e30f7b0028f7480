"""The one studio every session shares, and the URLs its files are served from.

`studio()` is cached with `st.cache_resource`: one client, store and tracker per process. Where the
engine comes from depends on how the app was started:
- `streamlit run app.py`: the engine is mounted in this server at `/engine/v1`;
- `DAILIES_ENGINE_URL` set (tests, or an engine run on its own): that one;
- neither (AppTest, `streamlit run workbench.py`): the engine another process runs on the data
  folder, or else one started here on a loopback port.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import threading
from contextlib import ExitStack
from urllib.parse import quote

import streamlit as st

from components.mounts import wait_for_start
from components.tab_push import TabPush
from components.web import web_settings
from dailies.bucket import BucketError
from dailies.config import Environment
from dailies.jobs import Job
from dailies.media import MediaLibrary
from dailies.store import open_configured_store
from dailies.studio import Studio
from dailies.web.paths import FILES_PREFIX

log = logging.getLogger(__name__)

STORE_OPEN_WITHIN_S = 5.0
"""When the job store opens at the latest after a start when no page has been drawn (a server nobody
has opened yet still resumes its jobs)."""
_lock = threading.Lock()
_created: list[Studio] = []
_fallback_engine = ExitStack()
_engine_token: str | None = None


def set_engine_token(token: str) -> None:
    """Hand the mounted engine's token (made per start by `app.py`) to the studio; nothing else reads it."""
    global _engine_token
    _engine_token = token


def served_hosts() -> tuple[str, ...]:
    """Names this server answers to besides loopback ones: `server.address`, `browser.serverAddress` and
    `DAILIES_ALLOWED_HOSTS` (`components.web.web_settings`).

    A request carrying any other `Host` comes from a name someone rebound to this machine (DNS rebinding).
    """
    return tuple(sorted(web_settings().hosts.names))


def engine_url() -> tuple[str, str | None]:
    """Where the embedded engine answers, by how the app was started, and the key it wants."""
    if os.environ.get("DAILIES_ENGINE_URL"):
        return os.environ["DAILIES_ENGINE_URL"].rstrip("/"), os.environ.get("DAILIES_ENGINE_KEY")
    mount = os.environ.get("DAILIES_EMBEDDED_ENGINE")
    if mount:
        port = st.get_option("server.port")
        return f"http://127.0.0.1:{port}{mount}/v1", _engine_token
    from dailies.engine import EngineConfig, serve_engine
    from dailies.engine.folder import running_engine

    folder = Environment.load().home / "engine"
    busy, url, key = running_engine(folder)
    if busy and url:  # another process runs this folder's engine: one engine per folder, so use it
        return url.rstrip("/"), key
    running = _fallback_engine.enter_context(serve_engine(EngineConfig(data_dir=folder)))
    atexit.register(_fallback_engine.close)
    return running.base_url, None


@st.cache_resource(show_spinner="Starting the studio…")
def studio() -> Studio:
    """The shared studio, its tracker running (or starting, once the store has opened).

    The job store opens in the background once the first page has been drawn (`page_drawn`), or when
    something needs its jobs, or `STORE_OPEN_WITHIN_S` after the start: at 100,000 jobs loading it takes a
    second or two, and the first page (Generate) can be drawn and typed into meanwhile. Whatever reads
    jobs waits for it.
    """
    wait_for_start()  # while the server starts, which engine to use is not settled yet
    with _lock:
        url, key = engine_url()
        env = Environment.load()
        env.home.mkdir(parents=True, exist_ok=True)
        shared = Studio(env, engine_base_url=url, engine_api_key=key,
                        store=open_configured_store(env, background=True, open_within=STORE_OPEN_WITHIN_S))
        shared.start()
        TabPush(shared.store)  # a change, here or on another server, reaches the open tabs within a second
        _created.append(shared)
        return shared


def page_drawn() -> None:
    """A page has been drawn: the shared store may take the interpreter now, if it has not yet."""
    studio().store.open_now()


def close_studio() -> None:
    """Stop the tracker and flush the store (called when the server stops)."""
    with _lock:
        while _created:
            _created.pop().close()


@st.cache_data(max_entries=2, show_spinner=False)
def team_tags(store_version: int) -> list[str]:
    """Every tag in use, worked out once per version of the store rather than on every rerun."""
    return sorted({tag for job in studio().takes.all() for tag in job.tags})


@st.cache_data(max_entries=2, show_spinner=False)
def team_models(store_version: int) -> list[str]:
    """Every model a job was made with, once per version of the store."""
    return sorted({job.model for job in studio().takes.all()})


@functools.cache
def _media_library() -> MediaLibrary:
    """The media folder of this server, read from the environment once rather than per request."""
    return MediaLibrary(Environment.load().home / "media")


NO_PICTURE = "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='16' height='9'/>"
"""An empty picture for a table's image cell of a take without a thumbnail: a missing value there reads "None"."""


def media_url(job: Job, variant: str = "video") -> str | None:
    """The URL a browser loads a job's file from; the digest in it busts caches when a file is fetched again.

    The local copy when it is here; when the clean-up dropped it (it was checked safe in the team's
    bucket first), a presigned URL of the bucket's object, made here without a request.
    """
    record = job.files.get(variant)
    if record is None:
        return None
    if record.in_bucket and not _media_library().present(record):
        with contextlib.suppress(BucketError):
            bucket = studio().bucket()
            if bucket is not None:
                return bucket.presigned_url(record)
    name = record.path.rsplit("/", 1)[-1]
    return f"{FILES_PREFIX}/{quote(job.id)}/{quote(name)}?v={record.sha256[:12]}"
