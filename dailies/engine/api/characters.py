"""Characters (`/v1/videos/characters`): a name and a video, kept in the JobBook for prompts to use."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..state import JobBook, new_id
from .errors import APIError
from .fields import text
from .gate import RequestGate
from .uploads import save_video


class Characters:
    def __init__(self, book: JobBook, gate: RequestGate) -> None:
        self.book, self.gate = book, gate

    def routes(self) -> list[Route]:
        return [
            Route("/v1/videos/characters", self.create, methods=["POST"]),
            Route("/v1/videos/characters/{character_id}", self.get, methods=["GET"]),
        ]

    async def create(self, request: Request) -> Response:
        await self.gate.guard(request)
        self.gate.offer("characters")
        body = await self.gate.body(request)
        name = text(body.get("name")).strip()
        if not name:
            raise APIError(400, "A character needs a name.", param="name", code="missing_name")
        upload = body.get("video")
        if not isinstance(upload, UploadFile):
            raise APIError(
                400, "Send the character's video as a file in the 'video' field.", param="video", code="missing_video"
            )
        character_id = new_id("char")
        await save_video(upload, self.book.data_dir / "characters" / f"{character_id}.mp4")
        record = {"id": character_id, "object": "character", "created_at": int(time.time()), "name": name}
        self.book.characters[character_id] = record
        await run_in_threadpool(self.book.save)
        return JSONResponse(record)

    async def get(self, request: Request) -> Response:
        await self.gate.guard(request)
        self.gate.offer("characters")
        character_id = request.path_params["character_id"]
        record = self.book.characters.get(character_id)
        if record is None:
            raise APIError(404, f"No character found with id '{character_id}'.", code="not_found")
        return JSONResponse(record)
