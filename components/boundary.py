"""The one check every request to the server passes, before any route: Streamlit's pages, its WebSocket and
its own routes, and ours (the engine, the media files, `/access`, webhooks, the pipeline API).

`Boundary` is an ASGI middleware given to `st.App(middleware=...)` (Streamlit's public way to wrap its
Starlette app; it runs before Streamlit's own middleware). It refuses what `dailies.access.hosts.HostPolicy`
refuses (a foreign `Host`: 421; another page's `Origin` or fetch: 403, at the WebSocket's handshake too),
keeps Streamlit's metrics and agent API behind sign-in when the app is reachable from other machines, and
adds `FRAMING_HEADERS` to every answer. The routes' own checks stay; this is the guarantee that none is
missed. It imports only Starlette until its first request, so that `app.py` still answers at once.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from dailies.access.hosts import HostPolicy, Refusal

SIGNED_IN_ONLY = ("/_stcore/metrics", "/_stcore/agent/")
"""Streamlit's routes that say what the app holds or drive it: beyond loopback, for signed-in browsers only."""
PROGRAM_ROUTES = ("/engine/", "/api/", "/hooks/")
"""Our routes that answer programs in JSON: a refusal there is JSON too, `{"error": {"message", "code"}}`. Elsewhere
(pages, the takes a browser loads) it is plain text, which a browser shows, and reports, as it is."""


@functools.cache
def host_policy() -> HostPolicy:
    """This server's names, read once (settings are read at start; the README says to restart after a change)."""
    import streamlit as st

    from dailies.access.hosts import ALLOWED_HOSTS_VARIABLE, HostPolicy
    from dailies.config import Environment

    env = Environment.load()
    allowed = env.key_named(ALLOWED_HOSTS_VARIABLE)
    if not allowed:
        try:
            allowed = str(st.secrets.get(ALLOWED_HOSTS_VARIABLE) or "")  # any `secrets.files` Streamlit loaded
        except Exception:  # no secrets file at all
            allowed = ""
    return HostPolicy.parse(st.get_option("server.address"), st.get_option("browser.serverAddress"), allowed,
                            public_url=env.key_named("DAILIES_PUBLIC_URL"))


def _signed_in_only(path: str) -> bool:
    """Whether `path` is one of `SIGNED_IN_ONLY` (under `server.baseUrlPath` too)."""
    path = path.rstrip("/") + "/"
    return any(route.rstrip("/") + "/" in path for route in SIGNED_IN_ONLY)


def _refusal(scope: Scope) -> Refusal | None:
    from components.access import bound_beyond_loopback, media_allowed
    from dailies.access.hosts import Refusal

    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    refused = host_policy().refusal(scope["path"], headers)
    if refused is not None:
        return refused
    if scope["type"] == "http" and _signed_in_only(scope["path"]) and bound_beyond_loopback() \
            and not media_allowed(Request(scope)):
        return Refusal(401, "sign_in", "Sign in first (DAILIES_ACCESS_TOKEN or [auth]).")
    return None


def _answer(refused: Refusal, path: str) -> Response:
    if path.startswith(PROGRAM_ROUTES):
        return JSONResponse({"error": {"message": refused.message, "code": refused.code}}, status_code=refused.status)
    return PlainTextResponse(refused.message, status_code=refused.status)


class Boundary:
    """Refuses foreign hosts, other pages' requests and unsigned-in looks at Streamlit's internals; forbids framing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = _refusal(scope)
        if refused is not None:
            if scope["type"] == "http":
                await _with_framing_headers(_answer(refused, scope["path"]), scope, receive, send)
            else:
                await _refuse_handshake(scope, send, refused.status, refused.message)
            return
        if scope["type"] == "http":
            await _with_framing_headers(self.app, scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def _with_framing_headers(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    from dailies.access.hosts import FRAMING_HEADERS

    async def framed(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in FRAMING_HEADERS:
                if name.lower() == "content-security-policy" or name not in headers:
                    headers.append(name, value)
        await send(message)

    await app(scope, receive, framed)


async def _refuse_handshake(scope: Scope, send: Send, status: int, message: str) -> None:
    """Refuse a WebSocket before it opens: with the status when the server can send one, else a plain 403."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = message.encode()
        start: dict[str, Any] = {"type": "websocket.http.response.start", "status": status,
                                 "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                             (b"content-length", str(len(body)).encode())]}
        await send(start)
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.close", "code": 1008})
