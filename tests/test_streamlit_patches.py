"""Each reach into Streamlit's or uvicorn's internals (`components/streamlit_patches.py`) against the attribute and
signature it was written for: an upgrade that moves or changes one fails here, by name, rather than leaving a patch
that silently does nothing. Then what each patch does, and that `import app` applies every one of them.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import uvicorn

from components import streamlit_patches
from dailies.server_tick import QuietServer

ROOT = Path(__file__).resolve().parents[1]


def signature(function: object) -> str:
    return str(inspect.signature(function))  # type: ignore[arg-type]


def test_the_pages_manager_still_decides_old_style_pages_by_its_class_flag() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    assert "uses_pages_directory" in vars(PagesManager), "PagesManager.uses_pages_directory is gone"
    assert PagesManager.__annotations__["uses_pages_directory"] == "bool | None"
    assert "PagesManager.uses_pages_directory is None" in inspect.getsource(PagesManager.__init__), \
        "the flag is no longer what makes Streamlit look for a pages/ folder"


def test_the_component_scan_is_still_one_method_and_skipping_it_registers_nothing() -> None:
    from streamlit.components.v2.component_manager import BidiComponentManager

    scan = vars(BidiComponentManager).get("discover_and_register_components")
    assert scan is not None, "BidiComponentManager.discover_and_register_components is gone"
    assert signature(scan) in ("(self, *, start_file_watching: 'bool' = True) -> 'None'",
                               signature(streamlit_patches.no_component_packages))
    assert streamlit_patches.no_component_packages(object()) is None


def test_the_settings_poller_still_looks_once_per_call_and_the_patch_stops_only_settings_files() -> None:
    from streamlit.watcher.polling_path_watcher import PollingPathWatcher

    look = vars(PollingPathWatcher).get("_check_if_path_changed")
    assert look is not None, "PollingPathWatcher._check_if_path_changed is gone"
    assert signature(look) == "(self) -> 'None'"
    assert "_path" in inspect.getsource(PollingPathWatcher.__init__), "the watcher no longer keeps its path in _path"
    assert "self._check_if_path_changed()" in inspect.getsource(PollingPathWatcher._schedule), \
        "each look no longer schedules the next: stopping one look would not stop the polling"
    looked: list[str] = []
    check = streamlit_patches.look_unless_settings(lambda watcher: looked.append(watcher._path.name))
    for path in ("/app/.streamlit/config.toml", "/home/me/.streamlit/config.toml", "/app/.streamlit/secrets.toml",
                 "/app/pages/generate.py"):
        check(SimpleNamespace(_path=Path(path)))
    assert looked == ["generate.py"]


def test_uvicorns_server_still_loops_on_ticks_and_keeps_should_exit_on_the_instance() -> None:
    assert signature(uvicorn.Server.main_loop) == "(self) -> 'None'"
    assert signature(uvicorn.Server.on_tick) == "(self, counter: 'int') -> 'bool'"
    assert "self.should_exit = False" in inspect.getsource(uvicorn.Server.__init__)
    assert "await self.main_loop()" in inspect.getsource(uvicorn.Server._serve)
    assert isinstance(vars(QuietServer)["should_exit"], property)


def test_streamlits_cookie_helpers_still_read_a_signed_cookie(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.auth_util import get_cookie_with_chunks
    from streamlit.web.server.server_util import get_cookie_secret
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value, decode_signed_value

    assert signature(get_cookie_with_chunks) == \
        "(get_single_cookie_fn: 'Callable[[str], bytes | None]', cookie_name: 'str') -> 'bytes | None'"
    assert signature(get_cookie_secret) == "() -> 'str'"
    assert signature(decode_signed_value).startswith("(secret: 'str', name: 'str', value: 'str | bytes'")
    value = json.dumps({"is_logged_in": True}).encode()
    signed = create_signed_value(get_cookie_secret(), "_streamlit_user", value).decode("latin-1")
    assert streamlit_patches.signed_cookie({"_streamlit_user": signed}, "_streamlit_user") == value
    forged = create_signed_value("another secret", "_streamlit_user", value).decode("latin-1")
    assert streamlit_patches.signed_cookie({"_streamlit_user": forged}, "_streamlit_user") is None
    assert streamlit_patches.signed_cookie({}, "_streamlit_user") is None


def test_importing_the_app_applies_every_patch() -> None:
    """In a process of its own: the patches change classes for the whole interpreter (AppTest resets the pages flag)."""
    check = "\n".join((
        "import uvicorn",
        "import app",
        "from components import streamlit_patches as p",
        "from dailies.server_tick import QuietServer",
        "from streamlit.components.v2.component_manager import BidiComponentManager",
        "from streamlit.runtime.pages_manager import PagesManager",
        "from streamlit.watcher.polling_path_watcher import PollingPathWatcher",
        "assert PagesManager.uses_pages_directory is False",
        "assert BidiComponentManager.discover_and_register_components is p.no_component_packages",
        "assert PollingPathWatcher._check_if_path_changed.__qualname__.startswith('look_unless_settings')",
        "assert uvicorn.Server.main_loop is QuietServer.main_loop",
        "assert uvicorn.Server.should_exit is QuietServer.should_exit",
    ))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_runtime_still_lists_sessions_that_rerun_with_their_last_client_state() -> None:
    from streamlit.runtime import Runtime
    from streamlit.runtime.app_session import AppSession, AppSessionState
    from streamlit.runtime.session_manager import ActiveSessionInfo, SessionManager

    assert "self._session_mgr" in inspect.getsource(Runtime.__init__), "Runtime._session_mgr is gone"
    assert signature(Runtime.exists) == "() -> 'bool'" and signature(Runtime.instance) == "() -> 'Runtime'"
    assert signature(SessionManager.list_active_sessions) == "(self) -> 'list[ActiveSessionInfo]'"
    assert ActiveSessionInfo.__annotations__["session"] == "AppSession"
    assert signature(AppSession.request_rerun) == "(self, client_state: 'ClientState | None') -> 'None'"
    source = inspect.getsource(AppSession.__init__)
    assert "self._client_state" in source and "self._state" in source and "self._scriptrunner" in source
    # The runner exists from a run's request until its end is handled (then None): what `page_running` reads.
    assert "self._scriptrunner = None" in inspect.getsource(AppSession._handle_scriptrunner_event_on_event_loop)
    assert AppSessionState.APP_IS_RUNNING.value == "APP_IS_RUNNING"
    assert streamlit_patches.open_sessions() is None, "no server in this process"

    class Session:
        def __init__(self) -> None:
            from streamlit.proto.ClientState_pb2 import ClientState

            self._state = AppSessionState.APP_NOT_RUNNING
            self._scriptrunner: object | None = None
            self.asked: list[object] = []
            self._client_state = ClientState(fragment_id="a fragment", is_auto_rerun=True, page_script_hash="p1")

        def request_rerun(self, state: object) -> None:
            self.asked.append(state)

    session = Session()
    assert not streamlit_patches.page_running(session)
    streamlit_patches.rerun_whole_page(session)
    (state,) = session.asked
    assert (state.fragment_id, state.is_auto_rerun, state.page_script_hash) == ("", False, "p1")
    session._scriptrunner = object()  # a run asked for, its start not yet handled: its callbacks may be running
    assert streamlit_patches.page_running(session)
    session._scriptrunner = None
    session._state = AppSessionState.APP_IS_RUNNING
    assert streamlit_patches.page_running(session)


def test_a_push_looks_and_asks_on_the_sessions_own_loop_and_never_into_a_run() -> None:
    """`rerun_if_idle` runs its look and its request on the session's event loop (where Streamlit handles a click's
    rerun), so a click's run is never joined by a push carrying the page's older widget values."""
    import asyncio
    import threading

    from streamlit.runtime.app_session import AppSession, AppSessionState

    assert "self._event_loop = asyncio.get_running_loop()" in inspect.getsource(AppSession.__init__)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    class Session:
        _state = AppSessionState.APP_NOT_RUNNING
        _scriptrunner: object | None = None
        _event_loop = loop

        def __init__(self) -> None:
            from streamlit.proto.ClientState_pb2 import ClientState

            self._client_state = ClientState(page_script_hash="p1")
            self.asked_on: list[str] = []

        def request_rerun(self, state: object) -> None:
            self.asked_on.append(threading.current_thread().name)

    try:
        session = Session()
        assert streamlit_patches.rerun_if_idle(session) is True
        assert session.asked_on == [thread.name], "asked on the session's loop, not the pushing thread"
        session._scriptrunner = object()  # a click's run was asked for first
        assert streamlit_patches.rerun_if_idle(session) is False
        assert session.asked_on == [thread.name]
        blocked = threading.Event()
        loop.call_soon_threadsafe(blocked.wait)  # a loop too busy to answer: not asked, looked at again later
        session._scriptrunner = None
        assert streamlit_patches.rerun_if_idle(session, timeout=0.2) is False
        blocked.set()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
