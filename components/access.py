"""Sign-in when the app is bound beyond loopback: a shared access token, entered once per browser.

On 127.0.0.1 the workbench is this machine's and asks nothing. Bound to another address (`server.address`
in `.streamlit/config.toml`, or none, which is every interface), anyone who can reach the port could
render, read every prompt and spend the team's budget, so: `DAILIES_ACCESS_TOKEN` (environment or
secrets) must be set, a person enters it once on `/access`, and the answer is an HttpOnly cookie holding
a digest of the token (never the token). Pages (`require_access`, before any page runs) and the media
route (`media_allowed`) check that cookie; without it no page content and no file is served.

People on other machines reach the app only by the names the team configured (`DAILIES_ALLOWED_HOSTS`,
`components.boundary`); a name configured that is not this machine's (a LAN address, a reverse proxy's name)
also needs sign-in, as a proxy on this machine makes a loopback-bound app reachable from elsewhere. Wrong
tokens are slowed down per address and for everyone together (`dailies.access.lockout`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import html
import logging
import math
import time

import streamlit as st
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from components.mounts import ACCESS_ROUTE
from dailies.access.hosts import ALLOWED_HOSTS_VARIABLE
from dailies.access.lockout import Guesses
from dailies.config import Environment, is_loopback_host
from dailies.request_bodies import read_form

COOKIE = "dailies_access"
MAX_SIGN_IN_FORM = 4 * 1024
"""The largest sign-in form, in bytes: one token field."""
log = logging.getLogger(__name__)
_guesses = Guesses()
"""Wrong tokens sent to `/access` in this process, which slow down whoever sends them."""


def bound_beyond_loopback() -> bool:
    """Whether people on other machines can reach this server: it is bound beyond loopback (no address means
    every interface), or a name it answers to is not this machine's (a LAN address, a reverse proxy's name)."""
    from components.boundary import host_policy

    address = str(st.get_option("server.address") or "")
    return not (address and is_loopback_host(address)) or host_policy().reached_from_other_machines


def _digest(token: str) -> str:
    return hmac.new(token.encode(), b"dailies-access-cookie", hashlib.sha256).hexdigest()


def cookie_valid(value: str | None, token: str | None) -> bool:
    """Whether a cookie value proves the access token was entered (constant-time)."""
    return bool(token and value and hmac.compare_digest(value, _digest(token)))


def media_allowed(request: Request) -> bool:
    """The media route's check: loopback-bound needs nothing; beyond it, the access cookie, or a signed-in
    (and allowed) user when sign-in (`[auth]`) is configured."""
    if not bound_beyond_loopback():
        return True
    from components.identity import cookie_signed_in

    return cookie_valid(request.cookies.get(COOKIE), _server_token()) or cookie_signed_in(request.cookies)


@functools.cache
def _server_token() -> str | None:
    """The access token, read once per process (the media route must not re-read the environment per file)."""
    return Environment.load().access_token


def announce() -> None:
    """Say at start when the app is reachable from other machines, and whether sign-in is set up."""
    if not bound_beyond_loopback():
        return
    address = st.get_option("server.address") or "every interface"
    from components.boundary import host_policy
    from components.identity import auth_configured

    names = sorted(name for name in host_policy().names if not is_loopback_host(name))
    if names:
        log.warning("Dailies answers other machines at %s (%s); any other host name is refused.",
                    ", ".join(names), ALLOWED_HOSTS_VARIABLE)
    else:
        log.warning("Dailies answers only loopback names: to be reached from other machines by this machine's name "
                    "or address, set %s (for example %s=dailies.lan,192.168.1.20) and restart.",
                    ALLOWED_HOSTS_VARIABLE, ALLOWED_HOSTS_VARIABLE)

    if auth_configured():
        log.warning("Dailies is bound to %s (beyond loopback): sign-in through [auth] is required.", address)
    elif Environment.load().access_token:
        log.warning("Dailies is bound to %s (beyond loopback): sign-in with DAILIES_ACCESS_TOKEN is required.",
                    address)
    else:
        log.warning("Dailies is bound to %s (beyond loopback) and no sign-in is configured: no page or file is "
                    "served until [auth] is set in .streamlit/secrets.toml or DAILIES_ACCESS_TOKEN is.", address)


def require_access() -> None:
    """Stop the script run (no page runs) unless this browser signed in, when bound beyond loopback."""
    if not bound_beyond_loopback():
        return
    from components.identity import auth_configured

    if auth_configured():
        return  # sign-in (st.login) is configured: `require_sign_in` asks for it
    token = Environment.load().access_token
    if cookie_valid(st.context.cookies.get(COOKIE), token):
        return
    st.title("Dailies")
    if not token:
        st.error("This workbench is reachable from other machines, so it needs sign-in: configure `[auth]` "
                 "(OpenID Connect) in .streamlit/secrets.toml, or set DAILIES_ACCESS_TOKEN in the environment or "
                 "secrets, and restart it. See the README's \"Sign-in\".", icon=":material/lock:")
    else:
        st.info("This workbench is reachable from other machines: sign in with the team's access token.",
                icon=":material/lock:")
        st.link_button("Sign in", ACCESS_ROUTE, icon=":material/login:")
    st.stop()


_FORM = """<!doctype html><meta charset="utf-8"><title>Dailies · sign in</title>
<style>body{{font-family:sans-serif;background:#0e1117;color:#fafafa;display:grid;place-items:center;height:90vh}}
input,button{{font-size:1rem;padding:.4rem;margin:.3rem 0}}</style>
<form method="post" action="{action}"><h1>Dailies</h1><p>{message}</p>
<label>Access token<br><input type="password" name="token" autofocus required></label><br>
<button type="submit">Sign in</button></form>"""


async def access_page(request: Request) -> Response:
    """`GET /access`: the sign-in form. `POST`: check the token, set the cookie, go to the workbench."""
    from components.runtime import host_allowed  # runtime imports this module for the media route

    if not host_allowed(request):
        return HTMLResponse("This server does not answer for that host.", status_code=421)
    token = _server_token()
    if not token:
        return HTMLResponse(_FORM.format(action=ACCESS_ROUTE, message=html.escape(
            "Sign-in is not set up: DAILIES_ACCESS_TOKEN is not set on the server.")), status_code=503)
    if request.method == "POST":
        client = request.client.host if request.client else ""
        wait = _guesses.wait(client, time.monotonic())
        if wait > 0:  # the token is not even looked at: a guess made while waiting tells nothing
            return HTMLResponse(_FORM.format(action=ACCESS_ROUTE, message=html.escape(
                f"Too many wrong tokens: try again in {math.ceil(wait)} s.")), status_code=429,
                headers={"Retry-After": str(math.ceil(wait))})
        try:  # past MAX_SIGN_IN_FORM, `BodyTooLarge`: Starlette answers 413
            form = await read_form(request, MAX_SIGN_IN_FORM, max_files=0, max_field_bytes=MAX_SIGN_IN_FORM)
            given = str(form.get("token") or "")
        except ValueError:  # a form the parsers refuse holds no token
            given = ""
        if hmac.compare_digest(given.encode(), token.encode()):
            _guesses.succeeded(client)
            answer = RedirectResponse("/", status_code=303)
            answer.set_cookie(COOKIE, _digest(token), httponly=True, samesite="strict",
                              secure=request.url.scheme == "https", max_age=30 * 86400)
            return answer
        _guesses.failed(client, time.monotonic())
        return HTMLResponse(_FORM.format(action=ACCESS_ROUTE, message="That is not the access token."),
                            status_code=401)
    return HTMLResponse(_FORM.format(action=ACCESS_ROUTE, message="Enter the team's access token once."))
