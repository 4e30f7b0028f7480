"""Assembling a board: the colour across each cut, the picked takes joined into one sequence kept as a job,
and the clips an editor receives.

Kept apart from launching because it only reads finished files: it sends nothing to a provider and works
on what the media folder already holds.
"""

from __future__ import annotations

import dataclasses
import time

from dailies.errors import ValidationError
from dailies.jobs import FileRecord, Job, JobKind, JobStatus, new_job_id
from dailies.media import make_thumbnail, probe_video, sha256_file
from dailies.review.approvals import Approvals
from dailies.review.notes import NoteBook
from dailies.storyboard import assemble
from dailies.storyboard.boards import ASSEMBLY_PROVIDER, NONE, Board, Cut, Shot, prompt_of, video_path
from dailies.storyboard.editing import BoardBook
from dailies.storyboard.handoff import HandoffClip
from dailies.studio import Studio


class Assembler:
    """Joins a board's picks into one MP4 and says what each cut looks like."""

    def __init__(self, studio: Studio, book: BoardBook) -> None:
        self.studio = studio
        self.store = studio.store
        self.book = book

    def _clip(self, board: Board, shot: Shot) -> assemble.Clip:
        """The picked take as a clip; an extension starts where its source ended (the source is its own shot)."""
        job = self.store.require(shot.picked or "")
        start = 0.0
        if job.kind is JobKind.EXTEND and job.source_job_id and (source := self.store.get(job.source_job_id)):
            start = source.duration
        return assemble.Clip(video_path(self.studio.media, job), start)

    def cuts(self, board: Board) -> list[Cut | None]:
        """For each cut between neighbouring shots: ΔE across it, or None until both have a finished pick."""
        found: list[Cut | None] = []
        for before, after in zip(board.shots, board.shots[1:], strict=False):
            jobs = [self.store.get(s.picked) if s.picked else None for s in (before, after)]
            if not all(j is not None and j.status is JobStatus.COMPLETED and j.has_video for j in jobs):
                found.append(None)
                continue
            a, b = self._clip(board, before), self._clip(board, after)
            chained = after.continuity != NONE and after.started_from == before.picked
            found.append(Cut(before.id, after.id, _delta_e_cached(a, b, _digest(jobs[0]), _digest(jobs[1])), chained))
        return found

    def assembly_missing(self, board: Board) -> list[str]:
        """Shots that have no finished pick yet (so the board cannot be assembled), by name."""
        missing = []
        for shot in board.shots:
            job = self.store.get(shot.picked) if shot.picked else None
            if job is None or job.status is not JobStatus.COMPLETED or not job.has_video:
                missing.append(shot.name)
        return missing

    def assemble(self, board_id: str, *, force_reencode: bool = False) -> Board:
        """Join the picked takes into one MP4, kept as a job of its own whose lineage is the board."""
        board = self.book.get(board_id)
        if not board.shots:
            raise ValidationError("The board has no shots to assemble.")
        if missing := self.assembly_missing(board):
            raise ValidationError(f"Pick a finished take of {', '.join(missing)} first.")
        clips = [self._clip(board, shot) for shot in board.shots]
        job_id = new_job_id()
        folder = self.studio.media.job_dir(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            result = assemble.join(clips, folder / "video.mp4", crossfade=board.crossfade,
                                   force_reencode=force_reencode)
            info = probe_video(result.path)
            video = FileRecord(self.studio.media.relative(result.path), result.path.stat().st_size,
                               sha256_file(result.path), "video/mp4", duration=info.duration)
            thumb = make_thumbnail(result.path, folder / "thumbnail.webp")
            thumb = dataclasses.replace(thumb, path=self.studio.media.relative(thumb.path))
        except BaseException:
            self.studio.media.remove_job(job_id)
            raise
        now = time.time()
        picks = [shot.picked or "" for shot in board.shots]
        job = Job(
            id=job_id, provider=ASSEMBLY_PROVIDER, model="pyav", kind=JobKind.ASSEMBLE,
            prompt=f"{board.title} (v{board.version}): " + " | ".join(shot.name for shot in board.shots),
            size=f"{info.width}x{info.height}", seconds=round(info.duration), status=JobStatus.COMPLETED,
            progress=100, created_at=now, updated_at=now, completed_at=now,
            params={"board_id": board.id, "board_version": board.version, "picks": picks, "method": result.method,
                    "method_reason": result.reason, "crossfade": board.crossfade},
            files={"video": video, "thumbnail": thumb}, tags=[f"board:{board.id}"],
        )
        self.store.insert(job)
        self.studio.tracker.upload_soon(job_id)  # the team's bucket keeps the sequence as it keeps takes
        board = self.book.get(board_id)
        board.assembly_id, board.assembled_from = job_id, picks
        return self.book.save(board)

    def handoff(self, board: Board) -> list[HandoffClip]:
        """The picked takes as an editor receives them (timeline, zip, contact sheet), in shot order."""
        if missing := self.assembly_missing(board):
            raise ValidationError(f"Pick a finished take of {', '.join(missing)} first.")
        notes, approvals = NoteBook(self.store), Approvals(self.store)
        clips = []
        for shot in board.shots:
            clip = self._clip(board, shot)
            take = shot.picked or ""
            clips.append(HandoffClip(shot.name, prompt_of(board, shot), take, clip.path, clip.start,
                                     notes=tuple(notes.of_take(take)), status=str(approvals.status(take))))
        return clips

    def assembly(self, board: Board) -> Job | None:
        return self.store.get(board.assembly_id) if board.assembly_id else None

    def assembly_current(self, board: Board) -> bool:
        """The assembly joins exactly the picks the board has now."""
        return bool(board.assembly_id) and board.assembled_from == [s.picked or "" for s in board.shots]



def _digest(job: Job | None) -> str:
    return job.files["video"].sha256 if job is not None else ""


_DELTA_CACHE: dict[tuple[str, str, float], float] = {}


def _delta_e_cached(a: assemble.Clip, b: assemble.Clip, digest_a: str, digest_b: str) -> float:
    """ΔE across a cut, worked out once per pair of files (a board is redrawn often, files rarely change)."""
    key = (digest_a, digest_b, b.start)
    if key not in _DELTA_CACHE:
        if len(_DELTA_CACHE) > 512:
            _DELTA_CACHE.clear()
        _DELTA_CACHE[key] = assemble.cut_delta_e(a, b)
    return _DELTA_CACHE[key]
