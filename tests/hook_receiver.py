"""Webhook receivers on loopback for tests: `hook_receiver` records every request and answers what the
test says; `receiver_server` puts the app's own `WebhookReceiver` behind real HTTP."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from until import wait_until

from dailies.engine.server import free_port
from dailies.webhooks import WebhookReceiver


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class HookReceiver:
    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Statuses to answer, in order; once used up, 200."""
    redirect_to: str | None = None
    """When set, every request is answered 302 to this URL."""

    async def handle(self, request: Request) -> Response:
        self.received.append(Received(await request.body(), {k.lower(): v for k, v in request.headers.items()}))
        if self.redirect_to:
            return Response("", status_code=302, headers={"location": self.redirect_to})
        status = self.answers.pop(0) if self.answers else 200
        return Response("{}", status_code=status, media_type="application/json")


@contextlib.contextmanager
def hook_receiver(path: str = "/hook") -> Iterator[HookReceiver]:
    port = free_port()
    receiver = HookReceiver(f"http://127.0.0.1:{port}{path}")
    app = Starlette(routes=[Route(path, receiver.handle, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the test receiver to start")
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(5)


@contextlib.contextmanager
def receiver_server(receiver: WebhookReceiver) -> Iterator[str]:
    """The receiver behind a real HTTP server on loopback (as the app mounts it at /hooks/<provider>);
    yields the base URL providers deliver to."""

    async def handle(request: Request) -> JSONResponse:
        outcome = receiver.receive(request.path_params["provider"], await request.body(), request.headers)
        return JSONResponse({"message": outcome.message}, status_code=outcome.status)

    port = free_port()
    app = Starlette(routes=[Route("/hooks/{provider}", handle, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the receiver to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
