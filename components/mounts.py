"""What `app.py` mounts beside Streamlit besides the web app (`dailies.web.paths`), and the start it waits for.

The server answers as soon as Streamlit's own is up: the engine, the studio and the modules behind our routes are
loaded in a background thread meanwhile (while the first browser loads Streamlit's frontend), so this module imports
nothing of them. Until that thread has settled which engine the studio talks to, `wait_for_start` holds whoever
needs to know (the studio, our routes).
"""

from __future__ import annotations

import threading

ENGINE_MOUNT = "/engine"

START_TIMEOUT_S = 120.0
_starting: threading.Event | None = None


def starting() -> threading.Event:
    """Mark this process as a server still starting; the returned event is set once it has (by `app.py`)."""
    global _starting
    _starting = threading.Event()
    return _starting


def wait_for_start() -> None:
    """Return once the server's start-up has settled (at once where nothing is starting: AppTest, the CLI)."""
    if _starting is not None and not _starting.wait(START_TIMEOUT_S):
        raise RuntimeError("The app did not finish starting; see its log.")
