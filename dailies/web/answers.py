"""The checks and refusals every route of ours shares: the host a request names, and errors as JSON."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from dailies.config import host_of
from dailies.web.settings import WebSettings

WRONG_HOST = "This server does not answer for that host."


def host_ok(request: Request, settings: WebSettings) -> bool:
    """Whether the request's `Host` names this server (or, on the program routes, the public URL's host).

    Every request passed `dailies.web.boundary` first; a route checks again so that, mounted without it, none
    answers a stranger."""
    return settings.hosts.host_allowed(host_of(request.headers.get("host", "")), request.url.path)


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """The pipeline API's refusal: `{"error": {"message": ..., ...}}`."""
    return JSONResponse({"error": {"message": message, **extra}}, status_code=status)
