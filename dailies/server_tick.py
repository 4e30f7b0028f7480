"""A uvicorn server whose idle loop wakes once a second, not ten times.

uvicorn's `Server.main_loop` sleeps a tenth of a second at a time, to refresh its Date header (once a
second) and to see whether it was asked to stop. On a small shared VM every wake-up of an idle process
costs milliseconds of CPU, paid all day with no tab open (`python -m bench pages`, the idle table): ten a
second were a third of what the idle app cost. Here the loop sleeps a second, and a request to stop (a
signal, or `should_exit` set by the code that started the server) wakes it at once, so a server stops as
quickly as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import uvicorn

__all__ = ["QuietServer"]


class QuietServer(uvicorn.Server):
    """`uvicorn.Server` with a once-a-second idle tick that a stop request cuts short."""

    @property  # type: ignore[override]
    def should_exit(self) -> bool:
        return bool(self.__dict__.get("should_exit", False))

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self.__dict__["should_exit"] = value
        wake = self.__dict__.get("_dailies_wake")
        if value and wake is not None:
            wake()

    async def main_loop(self) -> None:
        loop, stop = asyncio.get_running_loop(), asyncio.Event()
        self.__dict__["_dailies_wake"] = lambda: _call_soon(loop, stop.set)
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864000  # `on_tick` refreshes the Date header when counter % 10 == 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            should_exit = await self.on_tick(counter)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Any) -> None:
    """From a signal handler or another thread; a loop already closed has nothing left to wake."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback)
