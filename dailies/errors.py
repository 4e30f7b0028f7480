"""Everything that can go wrong, as exceptions a page can explain to a person.

API errors keep the server's status, code, param and message so the History table can show the
server's own words; local refusals (validation, moderation, budget) say what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DailiesError(Exception):
    """Base of every error this package raises on purpose."""


class RequestRefused(DailiesError):
    """We refused a request before anything left the machine. Nothing was sent or written."""


class ValidationError(RequestRefused):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ModerationBlocked(RequestRefused):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("The prompt was blocked before sending: " + "; ".join(reasons))
        self.reasons = reasons


class BudgetExceeded(RequestRefused):
    pass


class NotSupported(RequestRefused):
    """The provider does not offer this operation (we know, or its server just said so): nothing was made."""


class APIError(DailiesError):
    """An error answer from a provider, with what the server said."""

    status_code: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.code = code
        self.param = param
        self.type = type
        self.headers = dict(headers or {})
        self.body = body

    def __str__(self) -> str:
        status = str(self.status_code) if self.status_code else None
        # Gateways often echo the status as the code ("500"); say each thing once.
        code = self.code if self.code and str(self.code) != status else None
        return " · ".join(p for p in (status, code, self.message) if p)


class BadRequestError(APIError):
    status_code = 400


class AuthenticationError(APIError):
    status_code = 401


class PermissionDeniedError(APIError):
    status_code = 403


class NotFoundError(APIError):
    status_code = 404


class ConflictError(APIError):
    status_code = 409


class UnprocessableEntityError(APIError):
    status_code = 422


class RateLimitError(APIError):
    status_code = 429

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.headers)


class ServerError(APIError):
    """A 5xx: the server failed; an idempotent call may be retried."""


class APIConnectionError(APIError):
    """The server could not be reached (refused, reset, DNS) or dropped the connection."""


class APITimeoutError(APIConnectionError):
    """The server did not answer in time."""


_BY_STATUS: dict[int, type[APIError]] = {
    cls.status_code: cls
    for cls in (BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError,
                UnprocessableEntityError, RateLimitError)
    if cls.status_code is not None
}
"""Each status's error, by the status its class declares (a status said once)."""


def error_for_status(status_code: int, body: Any, headers: Mapping[str, str]) -> APIError:
    """Build the typed error for an HTTP error answer.

    Reads OpenAI's `{"error": {...}}` shape and FastAPI's `{"detail": ...}` (what LiteLLM's proxy and
    many vendor clones answer with: a sentence, or a list of field errors).
    """
    detail: dict[str, Any] = {}
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            detail = err
        elif isinstance(err, str):
            detail = {"message": err}
        if not detail.get("message") and "detail" in body:
            detail = {**detail, "message": _detail_text(body["detail"])}
    message = str(detail.get("message") or (body if isinstance(body, str) and body else f"HTTP {status_code}"))
    cls = _BY_STATUS.get(status_code, ServerError if status_code >= 500 else APIError)
    return cls(
        message,
        status_code=status_code,
        code=detail.get("code"),
        param=detail.get("param"),
        type=detail.get("type"),
        headers=headers,
        body=body,
    )


def _detail_text(detail: Any) -> str:
    """FastAPI's `detail`: a string, or a list of `{"loc": [...], "msg": ...}` field errors."""
    if isinstance(detail, list):
        said = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc") or () if p != "body")
                said.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
            else:
                said.append(str(item))
        return "; ".join(said)
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("msg") or detail)
    return str(detail)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The server's wait hint, from `retry-after-ms` or `retry-after` (seconds; dates are ignored)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = lowered.get(name)
        if raw is None:
            continue
        try:
            value = float(raw) * scale
        except ValueError:
            continue
        if value >= 0:
            return value
    return None


def plain_reason(exc: APIError) -> str:
    """Why a provider could not be used, in words for a person: no status codes or class names."""
    if isinstance(exc, APITimeoutError):
        return "it did not answer in time (it may be down, overloaded or behind a firewall)"
    if isinstance(exc, APIConnectionError):
        if exc.code == "connect_failed":
            return "nothing answers at its address (is it running, and is the address in Settings right?)"
        return "the connection dropped before it answered"
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return "it refused the API key (check the key in Settings)"
    if getattr(exc, "status_code", None) == 404:
        return "its address answers but is not a videos API (check the base URL, which usually ends in /v1)"
    if isinstance(exc, ServerError):
        return "it answered with a server error"
    return exc.message or str(exc)


def may_have_arrived(error: BaseException) -> bool:
    """Whether a failed send may still have made the job at the server (and so must be kept, unconfirmed).

    Only a refusal proves nothing was made: ours before sending (validation, a missing file), a
    connection that never opened, or the server's own 4xx answer. Anything else (a timeout, a dropped
    or closed connection, a 5xx, an answer we could not read, an interrupt) may have arrived.
    """
    if isinstance(error, RequestRefused):
        return False
    if isinstance(error, OSError) and not isinstance(error, ConnectionError | TimeoutError):
        return False  # a file we could not read before sending
    if isinstance(error, APIConnectionError):
        return error.code != "connect_failed"
    if isinstance(error, APIError):
        return isinstance(error, ServerError) or error.status_code is None or error.status_code in (408, 499)
    return True
