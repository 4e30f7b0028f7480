"""The one check every request to the server passes, before any route: Streamlit's pages, its WebSocket and its own
routes, and ours (the engine, the media files, `/access`, webhooks, the pipeline API).

`Boundary` is an ASGI middleware (given to `st.App(middleware=...)`, Streamlit's public way to wrap its Starlette
app, it runs before Streamlit's own middleware). It refuses what `dailies.access.hosts.HostPolicy` refuses (a foreign
`Host`: 421; another page's `Origin` or fetch: 403, at the WebSocket's handshake too), keeps Streamlit's metrics and
agent API behind sign-in when the app is reachable from other machines, and adds `FRAMING_HEADERS` to every
answer. The routes' own checks stay; this is the guarantee that none is missed. It imports only Starlette until its
first request (its settings are asked for then), so that the server that mounts it still answers at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from dailies.access.hosts import Refusal
    from dailies.web.settings import WebSettings

__all__ = ["PROGRAM_ROUTES", "SIGNED_IN_ONLY", "Boundary"]

SIGNED_IN_ONLY = ("/_stcore/metrics", "/_stcore/agent/")
"""Streamlit's routes that say what the app holds or drive it: beyond loopback, for signed-in browsers only."""
PROGRAM_ROUTES = ("/engine/", "/api/", "/hooks/")
"""Our routes that answer programs in JSON: a refusal there is JSON too, `{"error": {"message", "code"}}`. Elsewhere
(pages, the takes a browser loads) it is plain text, which a browser shows, and reports, as it is."""


def _signed_in_only(path: str) -> bool:
    """Whether `path` is one of `SIGNED_IN_ONLY` (under `server.baseUrlPath` too)."""
    path = path.rstrip("/") + "/"
    return any(route.rstrip("/") + "/" in path for route in SIGNED_IN_ONLY)


def _refusal(scope: Scope, settings: WebSettings) -> Refusal | None:
    from dailies.access.hosts import Refusal
    from dailies.web.access import signed_in

    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    refused = settings.hosts.refusal(scope["path"], headers)
    if refused is not None:
        return refused
    if scope["type"] == "http" and _signed_in_only(scope["path"]) and not signed_in(Request(scope), settings):
        return Refusal(401, "sign_in", "Sign in first (DAILIES_ACCESS_TOKEN or [auth]).")
    return None


def _answer(refused: Refusal, path: str) -> Response:
    if path.startswith(PROGRAM_ROUTES):
        return JSONResponse({"error": {"message": refused.message, "code": refused.code}}, status_code=refused.status)
    return PlainTextResponse(refused.message, status_code=refused.status)


_PASSED = "dailies.boundary"
"""Set in the scope of a request that passed: an app of ours mounted in a server that has a `Boundary` of its own
(the web app in Streamlit's) lets it through once, not twice (its framing headers would be sent twice)."""


class Boundary:
    """Refuses foreign hosts, other pages' requests and unsigned-in looks at Streamlit's internals; forbids framing.

    `settings` is asked at each request (once read, the caller's answer should be cached)."""

    def __init__(self, app: ASGIApp, settings: Callable[[], WebSettings]) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get(_PASSED):
            await self.app(scope, receive, send)
            return
        refused = _refusal(scope, self.settings())
        if refused is not None:
            if scope["type"] == "http":
                await _with_framing_headers(_answer(refused, scope["path"]), scope, receive, send)
            else:
                await _refuse_handshake(scope, send, refused.status, refused.message)
            return
        scope[_PASSED] = True
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
