"""The models the engine lists (`/v1/models`) and the one a request names.

The engine renders every model it lists as a preview; Sora's names are listed and accepted so that code
written against Sora 2 runs unchanged and sees its own model name in every answer.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dailies.videos_spec import MODELS

from .errors import APIError
from .gate import RequestGate

PREVIEW_MODEL = "dailies-preview"
PREVIEW_PRO_MODEL = "dailies-preview-pro"
ENGINE_MODELS: tuple[str, ...] = (PREVIEW_MODEL, PREVIEW_PRO_MODEL, "sora-2", "sora-2-pro")
"""What `/v1/models` lists: our preview names first, then Sora's, all rendered as local previews."""
OWNER = "dailies-local-preview"


def resolve_model(requested: str | None) -> str:
    """The model a request named, echoed back as the OpenAI API does, when the engine renders it."""
    model = (requested or "sora-2").strip()
    if model in ENGINE_MODELS or model in MODELS:
        return model
    allowed = ", ".join(dict.fromkeys((*ENGINE_MODELS, *MODELS)))
    raise APIError(400, f"Invalid model '{model}'. Supported models: {allowed}.", code="invalid_model", param="model")


class Catalogue:
    """The engine's models, or only `served_models` when it stands in for a one-model server (vLLM-Omni)."""

    def __init__(self, gate: RequestGate, served_models: tuple[str, ...] = ()) -> None:
        self.gate = gate
        self.served_models = served_models
        self.started = int(time.time())

    def model(self, requested: str | None) -> str:
        """The model a create names: one of `served_models` when the engine stands in for a one-model server
        (none named: its model, as vLLM does), otherwise `resolve_model`."""
        if not self.served_models:
            return resolve_model(requested)
        model = (requested or self.served_models[0]).strip()
        if model not in self.served_models:
            raise APIError(404, f"The model `{model}` does not exist.", code="model_not_found", param="model")
        return model

    def routes(self) -> list[Route]:
        return [Route("/v1/models", self.models, methods=["GET"])]

    async def models(self, request: Request) -> Response:
        await self.gate.guard(request, faults=False)
        data = [
            {"id": m, "object": "model", "created": self.started, "owned_by": OWNER,
             "description": "a local preview render by the Dailies engine, not the vendor's model"}
            for m in ENGINE_MODELS
        ] if not self.served_models else [
            {"id": m, "object": "model", "created": self.started, "owned_by": "vllm"} for m in self.served_models
        ]
        return JSONResponse({"object": "list", "data": data})
