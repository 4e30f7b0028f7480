"""Every place Dailies reaches into Streamlit's (and uvicorn's) internals: the patches `app.py` applies at start, the
private helpers that read Streamlit's sign-in cookie, and the runtime's sessions a change reruns
(`components.tab_push`). Streamlit 1.67 has no public way to do any of these.

Each is held by `tests/test_streamlit_patches.py` to the attribute and signature it was written against, so that an
upgrade that moves or changes one fails there, loudly, rather than silently here. At run time a patch whose target
is gone is skipped (the app starts as Streamlit's own would); a sign-in cookie that cannot be read signs nobody in.

It imports only Streamlit's and uvicorn's packages until a patch is applied, so that `app.py` still answers at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SETTINGS_FILES", "apply", "open_sessions", "page_running", "rerun_if_idle", "rerun_whole_page",
           "signed_cookie"]

SETTINGS_FILES = ("config.toml", "secrets.toml")
"""The files Streamlit polls for changes while running, which Dailies reads at start only."""


def _old_style_pages_off() -> None:
    """`pages/` holds the pages `st.navigation` runs. Streamlit would otherwise take a `pages/` folder for an old-style
    multipage app until a session first runs `workbench.py` (`st.navigation` sets this flag then), so that a link
    straight to /variants after a restart would run that page alone, without the sidebar."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def no_component_packages(self: Any, *, start_file_watching: bool = True) -> None:
    """What the scan for component packages registers here: nothing."""


def _skip_component_scan() -> None:
    """Streamlit reads the metadata of every installed distribution when it starts (about 120 here, 0.15 s before the
    server answers) to find packages that bring their own Streamlit components. Dailies uses none and installs none
    (`tests/test_store_opening.py` checks that the scan would find nothing), so the scan is skipped."""
    try:
        from streamlit.components.v2.component_manager import BidiComponentManager
    except ImportError:  # a Streamlit without the scan
        return
    BidiComponentManager.discover_and_register_components = no_component_packages  # type: ignore[method-assign]


def look_unless_settings(look: Callable[[Any], None]) -> Callable[[Any], None]:
    """`PollingPathWatcher._check_if_path_changed` that stops at its first go for `SETTINGS_FILES` (not looking
    again is how a poller stops: each look schedules the next), and looks as before at any other path."""
    def check(self: Any) -> None:
        if Path(str(getattr(self, "_path", ""))).name not in SETTINGS_FILES:
            look(self)

    return check


def _no_settings_polling() -> None:
    """Streamlit re-reads `config.toml` (two places) and `secrets.toml` while running by looking at each path five
    times a second from a thread pool: with no tab open, most of an idle server's wake-ups, each paid in CPU all day.
    Dailies reads its settings and secrets at start and says to restart after changing them (as with
    `fileWatcherType = "none"`), so those looks stop. A path watched for anything else (`--server.fileWatcherType
    poll` while working on the code) is looked at as before."""
    try:
        from streamlit.watcher.polling_path_watcher import PollingPathWatcher
    except ImportError:  # a Streamlit without the poller
        return
    PollingPathWatcher._check_if_path_changed = look_unless_settings(  # type: ignore[method-assign]
        PollingPathWatcher._check_if_path_changed)


def _quiet_server() -> None:
    """uvicorn's idle tick once a second rather than ten times (`dailies.server_tick.QuietServer`), for the server
    Streamlit makes (one made before this call keeps its state: `should_exit` lives in the instance's dict)."""
    import uvicorn

    from dailies.server_tick import QuietServer

    uvicorn.Server.should_exit = QuietServer.should_exit  # type: ignore[assignment,method-assign]
    uvicorn.Server.main_loop = QuietServer.main_loop  # type: ignore[method-assign]


def apply() -> None:
    """Apply every patch (once, at the server's start, before Streamlit's runtime exists)."""
    _old_style_pages_off()
    _skip_component_scan()
    _no_settings_polling()
    _quiet_server()


def signed_cookie(cookies: Mapping[str, str], name: str) -> bytes | None:
    """The value of Streamlit's signed cookie `name` (put together from its chunks, its signature checked with
    `[auth] cookie_secret`), or None when absent or not signed by this server.

    For routes outside a script run (the media files), where `st.user` does not exist: Streamlit's own functions,
    internal in 1.67."""
    from streamlit.auth_util import get_cookie_with_chunks
    from streamlit.web.server.server_util import get_cookie_secret
    from streamlit.web.server.starlette.starlette_app_utils import decode_signed_value

    secret = get_cookie_secret()

    def one(part: str) -> bytes | None:
        value = cookies.get(part)
        return None if value is None else decode_signed_value(secret, part, value.encode("latin-1"))

    return get_cookie_with_chunks(one, name)


def open_sessions() -> dict[str, Any] | None:
    """The server's open sessions (tabs) by id; None outside a server (the CLI, AppTest's stand-in runtime: a Mock
    with Runtime's spec, which has no session manager)."""
    from streamlit.runtime import Runtime

    manager = getattr(Runtime.instance() if Runtime.exists() else None, "_session_mgr", None)
    if manager is None:
        return None
    return {info.session.id: info.session for info in manager.list_active_sessions()}


def page_running(session: Any) -> bool:
    """Whether the session's page is running, or about to: from the moment a run is asked for (its script runner
    exists; its widgets' callbacks may be running) until the server has handled its end.

    A rerun asked for then stops the run at its next read of the session (Streamlit's fast reruns), even a callback
    halfway through its work: a pick saved whose chained launch never went. `_state` alone says "running" only
    once the server's loop has handled the run's start, which under load comes after the callbacks have begun."""
    return (getattr(session, "_scriptrunner", None) is not None
            or str(getattr(session, "_state", "")).endswith("APP_IS_RUNNING"))


def rerun_if_idle(session: Any, timeout: float = 5.0) -> bool:
    """Rerun the session's whole page unless it is running or about to; whether it was asked.

    Looked at and asked on the session's own event loop, where a click's rerun is handled too, so the two cannot
    cross: asked from another thread, a rerun could land just after a click's (seen: the click's run then ran with
    the page's previous widget values, and a Generate with the prompt just typed found no prompt and sent nothing).
    False, too, when the loop does not answer within `timeout` (it is busy: the caller looks again later)."""
    async def on_loop() -> bool:
        if page_running(session):
            return False
        rerun_whole_page(session)
        return True

    future = asyncio.run_coroutine_threadsafe(on_loop(), session._event_loop)
    try:
        return future.result(timeout)
    except TimeoutError:
        future.cancel()
        return False


def rerun_whole_page(session: Any) -> None:
    """Rerun the session's page as Streamlit's "run on save" does: with the tab's last client state (its widgets'
    values), the whole page even if its last run was one fragment's."""
    from streamlit.proto.ClientState_pb2 import ClientState

    state = ClientState()
    state.CopyFrom(session._client_state)
    state.fragment_id = ""
    state.is_auto_rerun = False
    session.request_rerun(state)
