"""What `app.py` mounts beside Streamlit, importable without the modules that serve it.

The server answers as soon as Streamlit's own is up: the engine, the studio and the modules behind
our routes are loaded in a background thread meanwhile (while the first browser loads Streamlit's
frontend), so this module imports nothing of them. Until that thread has settled which engine the
studio talks to, `wait_for_start` holds whoever needs to know (the studio, our routes).
"""

from __future__ import annotations

import threading

ENGINE_MOUNT = "/engine"
# Under /app/static/, which st.video and st.image take as a same-origin URL (Streamlit's own static
# serving is off); our route is matched before Streamlit's.
FILES_PREFIX = "/app/static/takes"
FILES_ROUTE = FILES_PREFIX + "/{job_id}/{name}"
ACCESS_ROUTE = "/access"
GUEST_ROUTE = "/guest"
"""A guest link's address: `/guest?t=SECRET` checks the secret, keeps it in an HttpOnly cookie and opens the view."""
GUEST_LEAVE_ROUTE = "/guest/leave"
HOOKS_ROUTE = "/hooks/{provider}"
"""`dailies.webhooks.HOOKS_PREFIX` + the provider's name (a test holds the two together)."""
API_PREFIX = "/api/v1"
PIPELINE_ENDPOINTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (f"{API_PREFIX}/openapi.json", "openapi", ("GET",)),
    (f"{API_PREFIX}/takes", "create_take", ("POST",)),
    (f"{API_PREFIX}/takes", "list_takes", ("GET",)),
    (f"{API_PREFIX}/takes/{{take_id}}", "get_take", ("GET",)),
    (f"{API_PREFIX}/takes/{{take_id}}/files/{{variant}}", "take_file", ("GET",)),
)
"""The pipeline API: path, handler in `components.pipeline_route`, methods."""
REVIEW_ENDPOINTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (f"{API_PREFIX}/takes/{{take_id}}/comments", "take_comments", ("GET", "POST")),
    (f"{API_PREFIX}/takes/{{take_id}}/comments/{{comment_id}}/replies", "comment_reply", ("POST",)),
    (f"{API_PREFIX}/takes/{{take_id}}/comments/{{comment_id}}/done", "comment_done", ("POST",)),
    (f"{API_PREFIX}/takes/{{take_id}}/approvals", "take_approvals", ("GET", "POST")),
    (f"{API_PREFIX}/takes/{{take_id}}/notes.{{format}}", "take_notes", ("GET",)),
)
"""The pipeline API's review routes: path, handler in `components.review_route`, methods."""

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
