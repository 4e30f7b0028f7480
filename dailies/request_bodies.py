"""Request bodies read within a limit, whatever the transfer encoding, and parsed off the event loop.

Every route of ours that reads a body (the engine, the webhook receiver, the pipeline API, the sign-in
form) reads it here, with its own limit. A `Content-Length` over the limit is refused before a byte is
read; a chunked body (no `Content-Length`) is counted as it streams in and reading stops at the first
byte over. Either way `BodyTooLarge` is raised: a 413, answered at once. Whatever the client still sends
uvicorn reads and drops as it arrives (its answer is complete), so memory held follows the limit, never
the body sent. The connection is deliberately not closed: closed with the client's data unread, the
socket would reset, and a client still sending often loses the 413 to "connection reset" (nginx and Go's
server linger before closing for the same reason).

JSON is parsed in a worker thread (a 25 MB document takes the best part of a second to parse: on the
event loop, the whole server would stand still meanwhile). Forms stream through Starlette's parsers a
received chunk at a time, so the loop is never held for more than one chunk; file parts go to temporary
files that spill to disk past 1 MB, and the other fields together are bounded by a limit of their own.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request

__all__ = ["BodyTooLarge", "parse_json", "read_bounded", "read_form", "read_json", "stream_bounded"]


def _size(limit: int) -> str:
    return f"{limit / 2**20:.0f} MB" if limit >= 2**20 else f"{limit // 1024} KB"


class BodyTooLarge(HTTPException):
    """A body over its route's limit: status 413 (a route that does not catch it still answers so, through
    Starlette's handler of `HTTPException`)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(413, f"The request body is over {_size(limit)}, the limit of this route.")

    @property
    def message(self) -> str:
        return str(self.detail)


async def stream_bounded(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; `BodyTooLarge` once more than `limit` bytes are declared or sent."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    received = 0
    async with contextlib.aclosing(request.stream()) as chunks:
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise BodyTooLarge(limit)
            yield chunk


async def read_bounded(request: Request, limit: int) -> bytes:
    """The whole body, at most `limit` bytes (`BodyTooLarge` beyond)."""
    body = bytearray()  # one buffer grown in place: past the limit it is freed at once
    async with contextlib.aclosing(stream_bounded(request, limit)) as chunks:
        async for chunk in chunks:
            body += chunk
    return bytes(body)


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("it is nested too deeply") from None


async def parse_json(body: bytes) -> Any:
    """`json.loads` in a worker thread; a malformed document (or one nested too deeply to parse) raises
    `ValueError`."""
    return await run_in_threadpool(_loads, body)


async def read_json(request: Request, limit: int) -> Any:
    """The body (at most `limit` bytes) parsed as JSON off the event loop: `BodyTooLarge` or `ValueError`."""
    return await parse_json(await read_bounded(request, limit))


class _MultiPartParser(MultiPartParser):
    """Starlette's multipart parser with one bound more: the fields that are not files, together, at most
    `max_part_size` bytes (Starlette's bounds each of them: a form of many large fields would all be held).
    It reads `_current_part`, Starlette's own; `tests/test_bounded_bodies.py` holds it to that."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._field_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is None:
            self._field_bytes += end - start
            if self._field_bytes > self.max_part_size:
                raise MultiPartException(f"The fields that are not files are over {_size(self.max_part_size)} "
                                         "together.")
        super().on_part_data(data, start, end)


async def read_form(request: Request, limit: int, *, max_files: int, max_field_bytes: int,
                    max_fields: int = 1000) -> FormData:
    """A multipart or URL-encoded form whose whole body is at most `limit` bytes (`BodyTooLarge`).

    Files spill to disk past 1 MB; what is held in memory is the fields that are not files, at most
    `max_field_bytes` together (a URL-encoded form, all fields, is bounded by that as its whole body).
    `max_files` and `max_fields` bound the parts. A form the parsers refuse raises `ValueError` with
    their reason; another content type is an empty form.
    """
    kind, _ = parse_options_header(request.headers.get("content-type", ""))
    if kind not in (b"multipart/form-data", b"application/x-www-form-urlencoded"):
        return FormData()
    multipart = kind == b"multipart/form-data"
    async with contextlib.aclosing(stream_bounded(request, limit if multipart else min(limit, max_field_bytes))
                                   ) as chunks:
        parser: MultiPartParser | FormParser
        if multipart:
            parser = _MultiPartParser(request.headers, chunks, max_files=max_files, max_fields=max_fields,
                                      max_part_size=max_field_bytes)
        else:
            parser = FormParser(request.headers, chunks)
        try:
            return await parser.parse()
        except MultiPartException as exc:
            raise ValueError(exc.message) from None
