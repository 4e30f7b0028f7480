"""Sign-in by the team's access token, when the server is reached from other machines.

A person enters `DAILIES_ACCESS_TOKEN` once on `/access`; the answer is an HttpOnly cookie holding a digest of
the token (never the token). The pages (`components.access.require_access`), the media route and
`dailies.web.boundary` check that cookie, or a user signed in through Streamlit's sign-in (`WebSettings.signed_in`).
Wrong tokens are slowed down per address and for everyone together (`dailies.access.lockout`).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import math
import time

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dailies.access.lockout import Guesses
from dailies.request_bodies import read_form
from dailies.web.answers import WRONG_HOST, host_ok
from dailies.web.paths import ACCESS_ROUTE
from dailies.web.settings import WebSettings

__all__ = ["COOKIE", "SignIn", "cookie_valid", "signed_in"]

COOKIE = "dailies_access"


def _digest(token: str) -> str:
    return hmac.new(token.encode(), b"dailies-access-cookie", hashlib.sha256).hexdigest()


def cookie_valid(value: str | None, token: str | None) -> bool:
    """Whether a cookie value proves the access token was entered (constant-time)."""
    return bool(token and value and hmac.compare_digest(value, _digest(token)))


def signed_in(request: Request, settings: WebSettings) -> bool:
    """The media route's check: loopback-bound needs nothing; beyond it, the access cookie, or a signed-in (and
    allowed) user when sign-in (`[auth]`) is configured."""
    if not settings.bound_beyond_loopback:
        return True
    return cookie_valid(request.cookies.get(COOKIE), settings.access_token) or settings.signed_in(request.cookies)


_FORM = """<!doctype html><meta charset="utf-8"><title>Dailies · sign in</title>
<style>body{{font-family:sans-serif;background:#0e1117;color:#fafafa;display:grid;place-items:center;height:90vh}}
input,button{{font-size:1rem;padding:.4rem;margin:.3rem 0}}</style>
<form method="post" action="{action}"><h1>Dailies</h1><p>{message}</p>
<label>Access token<br><input type="password" name="token" autofocus required></label><br>
<button type="submit">Sign in</button></form>"""


def _form(message: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(_FORM.format(action=ACCESS_ROUTE, message=html.escape(message)), status_code=status,
                        headers=headers)


class SignIn:
    """`/access`: the sign-in form, and the check of a token sent from it."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.guesses = Guesses()
        """Wrong tokens sent to `/access` in this process, which slow down whoever sends them."""

    def routes(self) -> list[Route]:
        return [Route(ACCESS_ROUTE, self.access_page, methods=["GET", "POST"])]

    async def access_page(self, request: Request) -> Response:
        """`GET /access`: the sign-in form. `POST`: check the token, set the cookie, go to the workbench."""
        if not host_ok(request, self.settings):
            return HTMLResponse(WRONG_HOST, status_code=421)
        token = self.settings.access_token
        if not token:
            return _form("Sign-in is not set up: DAILIES_ACCESS_TOKEN is not set on the server.", 503)
        if request.method != "POST":
            return _form("Enter the team's access token once.")
        client = request.client.host if request.client else ""
        wait = self.guesses.wait(client, time.monotonic())
        if wait > 0:  # the token is not even looked at: a guess made while waiting tells nothing
            return _form(f"Too many wrong tokens: try again in {math.ceil(wait)} s.", 429,
                         headers={"Retry-After": str(math.ceil(wait))})
        limit = self.settings.limits.sign_in_form
        try:  # past the limit, `BodyTooLarge`: Starlette answers 413
            form = await read_form(request, limit, max_files=0, max_field_bytes=limit)
            given = str(form.get("token") or "")
        except ValueError:  # a form the parsers refuse holds no token
            given = ""
        if hmac.compare_digest(given.encode(), token.encode()):
            self.guesses.succeeded(client)
            answer = RedirectResponse("/", status_code=303)
            answer.set_cookie(COOKIE, _digest(token), httponly=True, samesite="strict",
                              secure=request.url.scheme == "https", max_age=30 * 86400)
            return answer
        self.guesses.failed(client, time.monotonic())
        return _form("That is not the access token.", 401)
