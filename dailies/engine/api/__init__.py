"""The OpenAI Videos API, served: `VideosAPI` composes the engine's routes from modules by what they serve.

    gate.py         the key check, injected faults, a refused operation, and reading a body (JSON or form)
    catalogue.py    the models listed and the one a request names
    creating.py     create, remix, extend, edit;  fields.py: a create's fields read and checked
    reading.py      retrieve (with its poll hint), list, content, delete;  videos.py: a video found and reported
    characters.py   characters;  uploads.py: source videos and reference images a request brings
    errors.py       OpenAI-shaped error answers;  fault_answers.py: answers broken on purpose
    limits.py       how large a body, a form, a video or an image may be

Bodies arrive as the official `openai` package sends them (multipart, nested objects as bracketed fields such
as `video[id]`) or as JSON; both are read into one dict before anything is checked. These modules import the
engine's state and faults and the core's media, request bodies and videos spec; nothing imports Streamlit.
"""

from __future__ import annotations

from starlette.routing import Route

from dailies.videos_spec import MAX_PROMPT_CHARS

from ..faults import FaultPlan
from ..state import JobBook
from .catalogue import ENGINE_MODELS, OWNER, PREVIEW_MODEL, PREVIEW_PRO_MODEL, Catalogue, resolve_model
from .characters import Characters
from .creating import Creating
from .errors import APIError
from .gate import RequestGate
from .limits import (
    MAX_BODY,
    MAX_FIELDS,
    MAX_FILES,
    MAX_JSON_BODY,
    MAX_REFERENCE,
    MAX_REFERENCE_PIXELS,
    MAX_SOURCE_SECONDS,
    MAX_SOURCE_SIDE,
    MAX_UPLOAD,
)
from .reading import CONTENT_TYPES, Reading

__all__ = [
    "CONTENT_TYPES",
    "ENGINE_MODELS",
    "MAX_BODY",
    "MAX_FIELDS",
    "MAX_FILES",
    "MAX_JSON_BODY",
    "MAX_PROMPT_CHARS",
    "MAX_REFERENCE",
    "MAX_REFERENCE_PIXELS",
    "MAX_SOURCE_SECONDS",
    "MAX_SOURCE_SIDE",
    "MAX_UPLOAD",
    "OWNER",
    "PREVIEW_MODEL",
    "PREVIEW_PRO_MODEL",
    "APIError",
    "RequestGate",
    "VideosAPI",
    "resolve_model",
]


class VideosAPI:
    """The routes over a JobBook, one per engine; `gate` is shared with the webhook endpoints' routes."""

    def __init__(self, book: JobBook, plan: FaultPlan, api_key: str | None, poll_after_ms: int | None,
                 served_models: tuple[str, ...] = ()) -> None:
        self.book, self.plan = book, plan
        self.gate = RequestGate(plan, api_key)
        self.catalogue = Catalogue(self.gate, served_models)
        self.creating = Creating(book, plan, self.gate, self.catalogue)
        self.reading = Reading(book, plan, self.gate, poll_after_ms)
        self.characters = Characters(book, self.gate)
        self.status_requests = self.reading.status_requests
        """Status requests (`GET /v1/videos/{id}`) answered per video: what polling costs (tests, benchmarks)."""

    def routes(self) -> list[Route]:
        """Each part's routes, the characters' before a video's (`GET /v1/videos/characters/content` is a
        character's, not a video's content)."""
        return [*self.catalogue.routes(), *self.creating.routes(), *self.characters.routes(), *self.reading.routes()]
