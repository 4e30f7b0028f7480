"""The route providers deliver webhooks to: `POST /hooks/<provider>`, beside the engine at `/engine/v1`.

A delivery is authenticated by its signature (a provider cannot sign in), so this route needs no cookie; it still
answers only for this server's names (loopback, `server.address`, and the host of `DAILIES_PUBLIC_URL`, the tunnel
or reverse proxy providers reach us through), and refuses anything a web page sends (an `Origin` header). The
checks themselves live in `dailies.webhooks`.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dailies.request_bodies import BodyTooLarge, read_bounded
from dailies.web.answers import host_ok
from dailies.web.paths import HOOKS_ROUTE
from dailies.web.settings import WebSettings
from dailies.webhooks import WebhookReceiver

__all__ = ["Hooks"]


class Hooks:
    """Deliveries handed to one receiver (which tells the studio's tracker)."""

    def __init__(self, receiver: WebhookReceiver, settings: WebSettings) -> None:
        self.receiver = receiver
        self.settings = settings

    def routes(self) -> list[Route]:
        return [Route(HOOKS_ROUTE, self.receive_webhook, methods=["POST"])]

    async def receive_webhook(self, request: Request) -> Response:
        """Verify one delivery and hand it to the tracker; the answer says why a refused one was refused."""
        if not host_ok(request, self.settings):
            return JSONResponse({"error": "this server does not answer for that host"}, status_code=421)
        if request.headers.get("origin") is not None:
            return JSONResponse({"error": "requests sent by a web page are refused"}, status_code=403)
        try:
            body = await read_bounded(request, self.settings.limits.hook)
        except BodyTooLarge as exc:
            return JSONResponse({"error": exc.message}, status_code=413)
        outcome = await run_in_threadpool(self.receiver.receive, request.path_params["provider"], body,
                                          request.headers)
        return JSONResponse({"message": outcome.message}, status_code=outcome.status)
