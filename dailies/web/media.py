"""The media folder, served: `/app/static/takes/<job>/<file>`, with Range requests, streamed from disk.

Videos and images play from these URLs, never from bytes held in server memory. A file this server's folder lacks
(another server made the take) is fetched from the team's bucket first. Loopback-bound, anyone on this machine
may load a file; reached from other machines, a signed-in browser, or a guest whose link shows that take.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from dailies.bucket import BucketError, fetch_from_bucket
from dailies.errors import ValidationError
from dailies.studio import Studio
from dailies.web.access import signed_in
from dailies.web.answers import host_ok
from dailies.web.guests import Guests
from dailies.web.paths import FILES_ROUTE
from dailies.web.settings import WebSettings

__all__ = ["MediaFiles"]

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(video|thumbnail|spritesheet)\.(mp4|webp|jpg|png)$")


class MediaFiles:
    """The media route over a studio's media folder (and its bucket)."""

    def __init__(self, studio: Studio, settings: WebSettings, guests: Guests) -> None:
        self.studio = studio
        self.settings = settings
        self.guests = guests

    def routes(self) -> list[Route]:
        return [Route(FILES_ROUTE, self.serve_media_file)]

    def _fetched_from_bucket(self, job_id: str, name: str) -> Path | None:
        """A take's file this server's folder lacks (another server made it), fetched from the team's bucket into
        the folder, as a cache; None when the store knows no such file or it is not in the bucket."""
        job = self.studio.takes.get(job_id)
        wanted = f"{job_id}/{name}"
        record = next((r for r in (job.files.values() if job else ()) if r.path == wanted and r.in_bucket), None)
        if record is None:
            return None
        try:
            bucket = self.studio.bucket()
            if bucket is None:
                return None
            fetch_from_bucket(bucket, self.studio.media, record)
        except BucketError as exc:
            log.warning("a take's file could not be fetched from the bucket: %s", exc)
            return None
        return self.studio.media.servable(wanted)

    async def serve_media_file(self, request: Request) -> Response:
        """Serve a file of the media folder (Range requests answered, streamed from disk); anything else is a 404."""
        if not host_ok(request, self.settings):
            return JSONResponse({"error": "this server does not answer for that host"}, status_code=421)
        job_id = request.path_params["job_id"]
        if not signed_in(request, self.settings) and not self.guests.may_load(request.cookies, job_id):
            return JSONResponse({"error": "sign in first (DAILIES_ACCESS_TOKEN)"}, status_code=401)
        name = request.path_params["name"]
        try:
            if not _FILE_NAME.match(name):
                raise ValidationError(f"not a media file name: {name!r}")
            self.studio.media.job_dir(job_id)  # refuses ids that would leave the folder
        except ValidationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        path = self.studio.media.servable(f"{job_id}/{name}")
        if path is None:
            path = await run_in_threadpool(self._fetched_from_bucket, job_id, name)
        if path is None:
            return JSONResponse({"error": "no such file"}, status_code=404)
        # `?download=1` saves the file under a telling name instead of playing it in the tab.
        attachment = {"filename": f"{job_id}-{name}", "content_disposition_type": "attachment"}
        return FileResponse(path, headers={"Cache-Control": "private, max-age=86400"},
                            **(attachment if request.query_params.get("download") else {}))
