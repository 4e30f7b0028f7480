"""Where the web layer's routes answer; importable without anything that serves them (`app.py` mounts these
paths before the modules behind them have loaded)."""

from __future__ import annotations

FILES_PREFIX = "/app/static/takes"
"""Under /app/static/, which st.video and st.image take as a same-origin URL (Streamlit's own static serving is
off); our route is matched before Streamlit's."""
FILES_ROUTE = FILES_PREFIX + "/{job_id}/{name}"
ACCESS_ROUTE = "/access"
GUEST_ROUTE = "/guest"
"""A guest link's address: `/guest?t=SECRET` checks the secret, keeps it in an HttpOnly cookie and opens the view."""
GUEST_LEAVE_ROUTE = "/guest/leave"
HOOKS_ROUTE = "/hooks/{provider}"
"""`dailies.webhooks.HOOKS_PREFIX` + the provider's name (a test holds the two together)."""

API_PREFIX = "/api/v1"
OPENAPI_ROUTE = f"{API_PREFIX}/openapi.json"
TAKES_ROUTE = f"{API_PREFIX}/takes"
TAKE_ROUTE = f"{TAKES_ROUTE}/{{take_id}}"
TAKE_FILE_ROUTE = f"{TAKE_ROUTE}/files/{{variant}}"
COMMENTS_ROUTE = f"{TAKE_ROUTE}/comments"
REPLIES_ROUTE = f"{COMMENTS_ROUTE}/{{comment_id}}/replies"
DONE_ROUTE = f"{COMMENTS_ROUTE}/{{comment_id}}/done"
APPROVALS_ROUTE = f"{TAKE_ROUTE}/approvals"
NOTES_ROUTE = f"{TAKE_ROUTE}/notes.{{format}}"

WEB_PATHS = (FILES_ROUTE, ACCESS_ROUTE, GUEST_ROUTE, GUEST_LEAVE_ROUTE, HOOKS_ROUTE, OPENAPI_ROUTE, TAKES_ROUTE,
             TAKE_ROUTE, TAKE_FILE_ROUTE, COMMENTS_ROUTE, REPLIES_ROUTE, DONE_ROUTE, APPROVALS_ROUTE, NOTES_ROUTE)
"""Every path the web app answers (`tests/test_web_app.py` holds this to the app's routes): what a server that
mounts it beside other routes hands to it."""
