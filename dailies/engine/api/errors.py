"""The engine's error answers, shaped as OpenAI's (`{"error": {message, type, param, code}}`).

Every refusal is raised, never returned, so that a handler reads as its happy path; the engine's app turns
each into its response.
"""

from __future__ import annotations

from starlette.responses import JSONResponse


class APIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type_: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.type = status, message, code, param, type_
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


class NoSuchRoute(APIError):
    """FastAPI's answer for a route a server does not have (`{"detail": ...}`): a gateway without an operation."""

    def __init__(self, status: int) -> None:
        super().__init__(status, "Method Not Allowed" if status == 405 else "Not Found")

    def response(self) -> JSONResponse:
        return JSONResponse({"detail": self.message}, status_code=self.status)
