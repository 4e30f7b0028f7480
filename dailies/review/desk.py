"""The review of takes in one place for the pages, the API and the CLI: notes, decisions, versions together.

`ReviewDesk` composes the small pieces (`NoteBook`, `Approvals`, `Versions`, `Clock`) and holds the rules
that join them: a note is checked against its own take's frames, belongs to that take's version, and is
refused while the take is final; the previous version's open notes are one call. It holds no state of its
own (everything is in the store), so any number of desks over one store, in any processes, agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dailies.errors import ValidationError
from dailies.jobs import Job, JobRequest
from dailies.media import MediaLibrary
from dailies.review import markers
from dailies.review.approvals import Approvals, Decision, Locked, State
from dailies.review.notes import Author, Note, NoteBook, Reply
from dailies.review.timecode import Clock, clock_of
from dailies.review.versions import Stack, Versions

__all__ = ["EXPORT_FORMATS", "NoSuchTake", "NotReviewable", "ReviewDesk"]

EXPORT_FORMATS = ("otio", "fcpxml", "edl", "csv", "zip")
"""What a take's notes export as (see `dailies.review.markers`)."""


class NoSuchTake(ValidationError):
    """No take by that id (404 over the API)."""


class NotReviewable(ValidationError):
    """The take has no video to pin a note to yet (still rendering, failed, or its file is gone)."""


class ReviewDesk:
    """Notes, decisions and versions of takes in one store and media folder. Thread-safe; no state of its own."""

    def __init__(self, store: Any, media: MediaLibrary) -> None:
        self.store, self.media = store, media
        self.notes = NoteBook(store)
        self.approvals = Approvals(store)
        self.versions = Versions(store)

    # -- takes -------------------------------------------------------------------------------------

    def take(self, take_id: str) -> Job:
        job = self.store.get(take_id) if isinstance(take_id, str) else None
        if job is None:
            raise NoSuchTake(f"No take {take_id!r}.", field="take")
        return job

    def video(self, take_id: str) -> Path:
        """The take's video file on this machine, or NotReviewable saying why there is none."""
        job = self.take(take_id)
        record = job.files.get("video")
        path = self.media.servable(record.path) if record is not None else None
        if path is None:
            raise NotReviewable(f"Take {take_id} has no video here yet ({job.status}): notes are pinned to "
                                "the frames of a finished take.", field="take")
        return path

    def clock(self, take_id: str) -> Clock:
        return clock_of(self.video(take_id))

    # -- notes -------------------------------------------------------------------------------------

    def _unlocked(self, take_id: str, what: str) -> None:
        if self.approvals.locked(take_id):
            raise Locked(f"This take is final, so it is locked: {what} is refused until someone reopens it.")

    def add_note(self, take_id: str, frame: Any, text: Any, author: Author, *, end_frame: Any = None,
                 drawing: Any = None) -> Note:
        """Pin a note to `frame` (to `end_frame`) of the take; refused, with nothing written, for a frame
        outside the take, bad text or drawing, or a final take."""
        clock = self.clock(take_id)
        self._unlocked(take_id, "a new note")
        version = self.versions.stack(take_id).number(take_id)
        return self.notes.add(take_id, clock, frame, text, author, end_frame=end_frame, drawing=drawing,
                              version=version)

    def reply(self, note_id: str, text: Any, author: Author) -> Reply:
        self._unlocked(self.notes.get(note_id).take, "a reply")
        return self.notes.reply(note_id, text, author)

    def mark_done(self, note_id: str, by: Author, done: bool = True) -> Note:
        self._unlocked(self.notes.get(note_id).take, "changing a note")
        return self.notes.mark_done(note_id, by, done)

    def notes_of(self, take_id: str) -> list[Note]:
        self.take(take_id)
        return self.notes.of_take(take_id)

    def note_views(self, take_id: str) -> list[dict[str, Any]]:
        """The take's notes in frame order, with timecodes (what the API lists)."""
        clock = self.clock(take_id)
        return [note.view(clock) for note in self.notes_of(take_id)]

    # -- versions ----------------------------------------------------------------------------------

    def stack(self, take_id: str) -> Stack:
        self.take(take_id)
        return self.versions.stack(take_id)

    def previous(self, take_id: str) -> Job | None:
        """The version before this take in its stack (what "compare with the previous version" opens)."""
        return self.stack(take_id).previous(take_id)

    def retake_request(self, take_id: str) -> JobRequest:
        """The same request again (prompt, model, size, length, reference, tags; a remix, extension or edit
        of the same source), to answer the take's notes: send it, then `add_version(new, take_id)`."""
        job = self.take(take_id)
        return JobRequest(prompt=job.prompt, model=job.model, size=job.size, seconds=job.seconds, kind=job.kind,
                          reference_path=job.params.get("reference_path"), source_job_id=job.source_job_id,
                          tags=list(job.tags))

    def add_version(self, new_id: str, of: str) -> Stack:
        """Put take `new_id` on `of`'s stack as its next version (a retake); one made from the stack already
        (a remix, extension or edit of one of its takes) is there, and left as it is."""
        stack = self.stack(of)
        if new_id in {job.id for job in stack.takes}:
            return stack
        return self.versions.link_retake(new_id, of)

    def previous_open_notes(self, take_id: str) -> list[Note]:
        """The previous version's notes nobody has marked done: what this version was made to answer."""
        before = self.previous(take_id)
        return self.notes.open_of(before.id) if before is not None else []

    # -- decisions ---------------------------------------------------------------------------------

    def decide(self, take_id: str, decision: Any, author: Author, text: Any = None) -> Decision:
        self.take(take_id)
        return self.approvals.decide(take_id, decision, author, text)

    def statuses(self) -> dict[str, str]:
        """Every decided take's status in one read of the decisions (a take not in it is `in_review`): what
        History's column and filter, the grids' badges and the storyboard read, once per store version."""
        return {take: str(state) for take, state in self.approvals.statuses().items()}

    def approval(self, take_id: str) -> dict[str, Any]:
        """The take's status, each reviewer's latest decision (side by side) and the history, as plain data."""
        history = self.approvals.history(take_id)
        status = history[-1].decision if history else State.IN_REVIEW
        latest = self.approvals.by_reviewer(take_id) if history else {}
        return {"status": str(status), "locked": status == State.FINAL,
                "reviewers": [d.view() for d in sorted(latest.values(), key=lambda d: d.seq)],
                "history": [d.view() for d in history]}

    # -- notes to the editor -----------------------------------------------------------------------

    def export(self, take_id: str, fmt: str, *, url: str | None = None, timeline_start: str = "00:00:00:00") -> bytes:
        """The take's notes as `fmt` (otio, fcpxml, edl, csv, zip); `url` is where the OTIO clip points (by default the
        video's file name, for an editor to relink)."""
        if fmt not in EXPORT_FORMATS:
            raise ValidationError(f"Notes export as {', '.join(EXPORT_FORMATS)}, not {fmt!r}.", field="format")
        job, video = self.take(take_id), self.video(take_id)
        clock, notes, status = clock_of(video), self.notes_of(take_id), str(self.approvals.status(take_id))
        title = f"{job.prompt[:60]} ({take_id})"
        if fmt == "otio":
            return markers.otio_json(title, video, clock, notes, status=status, take=take_id, url=url).encode()
        if fmt == "fcpxml":
            return markers.fcpxml(title, video, clock, notes, status=status, take=take_id, url=url).encode()
        if fmt == "edl":
            return markers.resolve_edl(title, clock, notes, timeline_start=timeline_start).encode()
        if fmt == "csv":
            return markers.notes_csv(clock, notes, status=status).encode()
        return markers.annotated_zip(title, video, clock, notes)
