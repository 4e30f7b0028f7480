"""What every request passes before its handler: the key check, injected faults, and reading the body.

The webhook endpoints' routes pass the same gate (`RequestGate.guard`, `RequestGate.body`).
"""

from __future__ import annotations

import asyncio
import hmac
import math
from typing import Any

from starlette.requests import Request

from dailies.request_bodies import BodyTooLarge, read_bounded, read_form, read_json

from ..faults import FaultPlan
from .errors import APIError, NoSuchRoute
from .limits import MAX_BODY, MAX_FIELDS, MAX_FILES, MAX_JSON_BODY


class RequestGate:
    """The engine's key (None: no key needed) and its fault plan, applied to each request."""

    def __init__(self, plan: FaultPlan, api_key: str | None) -> None:
        self.plan = plan
        self._key = api_key

    async def guard(self, request: Request, *, faults: bool = True, create: bool = False) -> None:
        """A 401 without the key; then the injected latency, and (with `faults`) an injected 429 or 5xx."""
        if self._key:
            header = request.headers.get("authorization", "")
            given = header[7:] if header.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(given.encode(), self._key.encode()):
                shown = f"{given[:3]}***{given[-4:]}" if len(given) > 8 else "(none)"
                raise APIError(
                    401,
                    f"Incorrect API key provided: {shown}. Check the key the engine was started with.",
                    code="invalid_api_key",
                )
        faults_cfg = self.plan.faults
        if faults_cfg.latency_ms:
            await asyncio.sleep(faults_cfg.latency_ms / 1000)
        if not faults:
            return
        status = self.plan.request_fault(create=create)
        if status == 429:
            wait = faults_cfg.retry_after_s
            raise APIError(
                429,
                "Rate limit reached for requests (injected fault). Try again shortly.",
                code="rate_limit_exceeded",
                type_="requests",
                headers={"retry-after": str(max(1, math.ceil(wait))), "retry-after-ms": str(int(wait * 1000))},
            )
        if status:
            raise APIError(
                status,
                "The engine had an error while processing your request (injected fault).",
                code="server_error",
                type_="server_error",
            )

    def offer(self, operation: str) -> None:
        """Refuse `operation` as a server without its route would, when the plan says so
        (`Faults.refuse_operations`): a 405 for extend and edit, a 404 for the rest."""
        if operation in self.plan.faults.refuse_operations:
            raise NoSuchRoute(405 if operation in ("extend", "edit") else 404)

    async def body(self, request: Request) -> dict[str, Any]:
        """JSON or form fields as one dict; `a[b]` fields become nested `{"a": {"b": ...}}`.

        JSON is read up to `MAX_JSON_BODY` and parsed off the event loop; a form up to `MAX_BODY` in all (its
        files spill to disk, its other fields are `MAX_JSON_BODY` at most). Past its limit, however it is
        sent, the body is refused with a 413.
        """
        content_type = request.headers.get("content-type", "")
        try:
            if "application/json" in content_type:
                try:
                    data = await read_json(request, MAX_JSON_BODY)
                except ValueError as exc:
                    raise APIError(400, f"The body is not valid JSON: {exc}", code="invalid_json") from exc
                if not isinstance(data, dict):
                    raise APIError(400, "The body must be a JSON object.", code="invalid_json")
                return data
            if "multipart/form-data" in content_type or "application/x-www-form-urlencoded" in content_type:
                try:
                    form = await read_form(request, MAX_BODY, max_files=MAX_FILES, max_fields=MAX_FIELDS,
                                           max_field_bytes=MAX_JSON_BODY)
                except ValueError as exc:
                    raise APIError(400, f"The form could not be read: {exc}", code="invalid_form") from exc
                data: dict[str, Any] = {}
                for key, value in form.multi_items():
                    if "[" in key and key.endswith("]"):
                        outer, inner = key[:-1].split("[", 1)
                        nested = data.setdefault(outer, {})
                        if isinstance(nested, dict):
                            nested[inner] = value
                    else:
                        data[key] = value
                return data
            if not await read_bounded(request, MAX_JSON_BODY):
                return {}
        except BodyTooLarge as exc:
            raise APIError(413, exc.message, code="body_too_large") from None
        raise APIError(
            400,
            f"Unsupported content type {content_type!r}; send multipart/form-data or JSON.",
            code="unsupported_content_type",
        )
