"""Answers broken on purpose (see `Faults`): a download that stalls or drops, a create whose answer is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.responses import Response, StreamingResponse


def faulty_stream(path: Path, media_type: str, fault: str, stall_s: float) -> Response:
    """A download that stalls or drops halfway, with the full Content-Length promised."""
    size = path.stat().st_size
    half = size // 2

    async def body() -> AsyncIterator[bytes]:
        with open(path, "rb") as handle:
            yield handle.read(half)
            if fault == "drop":
                raise ConnectionAbortedError("injected fault: connection dropped midway")
            await asyncio.sleep(stall_s)
            yield handle.read()

    return StreamingResponse(body(), media_type=media_type, headers={"content-length": str(size)})


def dropped_answer() -> Response:
    """Headers promising a body, then the connection dropped: the answer to a create is lost."""

    async def body() -> AsyncIterator[bytes]:
        raise ConnectionAbortedError("injected fault: the answer to a create was lost")
        yield b""  # pragma: no cover - makes this an async generator

    return StreamingResponse(body(), media_type="application/json", headers={"content-length": "512"})
