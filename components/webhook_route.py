"""The route providers deliver webhooks to: `POST /hooks/<provider>`, beside the engine at `/engine/v1`.

A delivery is authenticated by its signature (a provider cannot sign in), so this route needs no
cookie; it still answers only for this server's names (loopback, `server.address`, and the host of
`DAILIES_PUBLIC_URL`, the tunnel or reverse proxy providers reach us through), and refuses anything a
web page sends (an `Origin` header). The checks themselves live in `dailies.webhooks`.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from components.runtime import host_allowed, studio
from dailies.config import Environment, host_of
from dailies.request_bodies import BodyTooLarge, read_bounded
from dailies.webhooks import MAX_BODY, WebhookBook, WebhookReceiver


@functools.cache
def public_url() -> str | None:
    """`DAILIES_PUBLIC_URL` (environment or secrets): where providers reach this app from outside."""
    return Environment.load().values.get("DAILIES_PUBLIC_URL") or None


@functools.cache
def receiver() -> WebhookReceiver:
    """The one receiver of this process, telling the shared studio's tracker (delivery ids claimed in its store)."""
    shared = studio()
    return WebhookReceiver(WebhookBook(shared.home, shared.store), shared.tracker)


def host_ok(request: Request) -> bool:
    """Whether the request's `Host` names this server, or the public URL providers and scripts reach it at."""
    if host_allowed(request):
        return True
    public = public_url()
    return bool(public) and host_of(request.headers.get("host", "")).lower() == (urlsplit(public).hostname or "")


async def receive_webhook(request: Request) -> Response:
    """Verify one delivery and hand it to the tracker; the answer says why a refused one was refused."""
    if not host_ok(request):
        return JSONResponse({"error": "this server does not answer for that host"}, status_code=421)
    if request.headers.get("origin") is not None:
        return JSONResponse({"error": "requests sent by a web page are refused"}, status_code=403)
    try:
        body = await read_bounded(request, MAX_BODY)
    except BodyTooLarge as exc:
        return JSONResponse({"error": exc.message}, status_code=413)
    outcome = await run_in_threadpool(receiver().receive, request.path_params["provider"], body, request.headers)
    return JSONResponse({"message": outcome.message}, status_code=outcome.status)
