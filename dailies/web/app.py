"""The web layer as an ASGI app of its own, built from a studio and plain settings.

`build_web_app` wires every route by reference (each module's `routes()`), owns the pipeline whose callbacks the API
sends, and passes every request through `Boundary` first. The Streamlit server mounts it at `dailies.web.paths.
WEB_PATHS` beside its own routes; a test serves it alone, with uvicorn on loopback or Starlette's TestClient.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware

from dailies.pipeline import Pipeline
from dailies.review import ReviewDesk
from dailies.review.guests import GuestLinks
from dailies.studio import Studio
from dailies.web.access import SignIn
from dailies.web.api import PipelineAPI
from dailies.web.boundary import Boundary
from dailies.web.guests import Guests
from dailies.web.hooks import Hooks
from dailies.web.media import MediaFiles
from dailies.web.review import ReviewAPI
from dailies.web.settings import WebSettings
from dailies.webhooks import WebhookBook, WebhookReceiver

__all__ = ["build_web_app"]


def build_web_app(studio: Studio, settings: WebSettings) -> Starlette:
    """The routes over `studio`: the pipeline API and its review routes, webhook deliveries, media files, sign-in
    and guest links. The pipeline's callbacks start now (takes ordered before a restart get theirs without waiting)
    and stop with the app's lifespan; `app.state.pipeline` is that pipeline."""
    pipeline = Pipeline(studio, callback_secret=settings.callback_secret)
    api = PipelineAPI(pipeline, ReviewDesk(studio.store, studio.media), settings)
    pipeline.start(api.file_url)
    guests = Guests(GuestLinks(studio.store), settings)
    hooks = Hooks(WebhookReceiver(WebhookBook(studio.home, studio.store), studio.tracker), settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await run_in_threadpool(pipeline.close)

    app = Starlette(
        routes=[*MediaFiles(studio, settings, guests).routes(), *SignIn(settings).routes(), *guests.routes(),
                *hooks.routes(), *api.routes(), *ReviewAPI(api).routes()],
        middleware=[Middleware(Boundary, settings=lambda: settings)],
        lifespan=lifespan,
    )
    app.state.pipeline = pipeline
    return app
