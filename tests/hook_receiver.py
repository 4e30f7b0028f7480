"""A webhook receiver on loopback for tests: `hook_receiver` records every request and answers what the test
says (bench/loopback.py's `receiver_server` puts the app's own `WebhookReceiver` behind real HTTP)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.loopback import serving
from dailies.engine.server import free_port


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
    with serving(Starlette(routes=[Route(path, receiver.handle, methods=["POST"])]), "the test receiver", port):
        yield receiver
