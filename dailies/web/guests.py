"""How a guest link passes the gate: for its own review view and its own takes' files, and nothing else.

`GET /guest?t=SECRET` (the link a guest is sent) checks the secret with `dailies.review.guests.GuestLinks` and
keeps it in an HttpOnly cookie (`COOKIE`, living no longer than the link), then opens the app's root. From then
on that browser is a guest: `workbench.py` asks `guest_link()` before anything else and, when the browser holds a
guest cookie, runs the guest view (`components.guest_view`) instead of the workbench, on every path, whether or
not the app is reachable from other machines; the team's sign-in is neither asked nor given. The media route lets
a guest load the files of the takes its link shows (`Guests.may_load`), no others. A revoked or expired link opens
nothing: the route and the view say so in a sentence, and show nothing else.

The secret is compared by its digest (the store keeps only that); it is never logged (Streamlit's server keeps
no access log, and nothing here writes it). Wrong secrets are slowed down like wrong access tokens.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dailies.access.lockout import Guesses
from dailies.web.answers import WRONG_HOST, host_ok
from dailies.web.paths import GUEST_LEAVE_ROUTE, GUEST_ROUTE
from dailies.web.settings import WebSettings

if TYPE_CHECKING:  # `dailies.review` loads pandas and OTIO: imported when a guest link is first asked about
    from dailies.review.guests import GuestLink, GuestLinks, GuestRefused

__all__ = ["COOKIE", "Guests", "guest_link", "holds_guest_cookie"]

COOKIE = "dailies_guest"
"""Holds a guest link's secret in the browser that opened it (HttpOnly: the pages' scripts cannot read it)."""

_PAGE = """<!doctype html><meta charset="utf-8"><title>Dailies · review link</title>
<style>body{{font-family:sans-serif;background:#0e1117;color:#fafafa;display:grid;place-items:center;height:90vh}}
</style><main><h1>Dailies</h1><p id="guest-refusal">{message}</p></main>"""


def holds_guest_cookie(cookies: Mapping[str, str]) -> bool:
    """Whether this browser opened a guest link (cheap: asked by every run of the workbench before anything)."""
    secret = cookies.get(COOKIE)
    return isinstance(secret, str) and bool(secret)  # (a test harness's stand-in cookies hold no text)


def guest_link(links: GuestLinks, cookies: Mapping[str, str]) -> GuestLink | GuestRefused | None:
    """What this browser's guest cookie opens: the live link, the refusal (revoked, expired, unknown), or None
    when it holds no guest cookie (it is not a guest)."""
    from dailies.review.guests import GuestRefused

    if not holds_guest_cookie(cookies):
        return None
    try:
        return links.open(cookies[COOKIE])
    except GuestRefused as refused:
        return refused


def _refused(message: str, status: int) -> Response:
    answer = HTMLResponse(_PAGE.format(message=html.escape(message)), status_code=status)
    answer.delete_cookie(COOKIE, path="/")
    return answer


class Guests:
    """`/guest` and `/guest/leave`, and what a guest's cookie lets the media route serve."""

    def __init__(self, links: GuestLinks, settings: WebSettings) -> None:
        self.links = links
        self.settings = settings
        self.guesses = Guesses()

    def routes(self) -> list[Route]:
        return [Route(GUEST_ROUTE, self.open_guest_link, methods=["GET"]),
                Route(GUEST_LEAVE_ROUTE, self.leave_guest_view, methods=["GET"])]

    def may_load(self, cookies: Mapping[str, str], take_id: str) -> bool:
        """Whether a guest's cookie opens a live link showing `take_id` (the media route's check for guests)."""
        from dailies.review.guests import GuestLink

        found = guest_link(self.links, cookies)
        return isinstance(found, GuestLink) and found.scope.allows(take_id)

    async def open_guest_link(self, request: Request) -> Response:
        """`GET /guest?t=SECRET`: a live link's secret goes into the cookie and the guest view opens; any other
        says why in a sentence (and clears a cookie the browser held)."""
        if not host_ok(request, self.settings):
            return HTMLResponse(WRONG_HOST, status_code=421)
        client = request.client.host if request.client else ""
        wait = self.guesses.wait(client, time.monotonic())
        if wait > 0:
            return _refused(f"Too many wrong review links: try again in {math.ceil(wait)} s.", 429)
        from dailies.review.guests import GuestRefused

        secret = request.query_params.get("t") or ""
        try:
            link = self.links.open(secret)
        except GuestRefused as refused:
            if "not valid" in str(refused):
                self.guesses.failed(client, time.monotonic())
            return _refused(str(refused), 403)
        self.guesses.succeeded(client)
        answer = RedirectResponse("/", status_code=303)
        answer.set_cookie(COOKIE, secret, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                          max_age=max(1, int(link.expires_at - time.time())), path="/")
        return answer

    async def leave_guest_view(self, request: Request) -> Response:
        """`GET /guest/leave`: forget the guest link in this browser (the workbench asks for sign-in again)."""
        if not host_ok(request, self.settings):
            return HTMLResponse(WRONG_HOST, status_code=421)
        answer = RedirectResponse("/", status_code=303)
        answer.delete_cookie(COOKIE, path="/")
        return answer
