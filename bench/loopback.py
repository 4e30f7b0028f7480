"""An ASGI app served on a loopback port from a thread of this process, as the benchmarks and tests run their
own small servers: webhook receivers, a counting engine, a TLS callback target."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from dailies.engine.server import free_port
from dailies.webhooks import WebhookReceiver


@contextlib.contextmanager
def serving(app: ASGIApp, what: str, port: int | None = None, **config: Any) -> Iterator[int]:
    """Serve `app` on 127.0.0.1 until the block ends; yields the port once uvicorn has started (within 15 s, or
    it fails naming `what`). `config`: more of `uvicorn.Config`'s settings (TLS, say)."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"{what} did not start on port {port}")
            time.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def receiver_server(receiver: WebhookReceiver) -> Iterator[str]:
    """The app's webhook receiver behind real HTTP on loopback (as the app mounts it at /hooks/<provider>);
    yields the base URL providers deliver to."""

    async def handle(request: Request) -> JSONResponse:
        outcome = receiver.receive(request.path_params["provider"], await request.body(), request.headers)
        return JSONResponse({"message": outcome.message}, status_code=outcome.status)

    app = Starlette(routes=[Route("/hooks/{provider}", handle, methods=["POST"])])
    with serving(app, "the webhook receiver") as port:
        yield f"http://127.0.0.1:{port}"
