"""The job record: the one language the provider, store, tracker and pages all speak.

A job is our record of one video we asked a provider for. It keeps the provider's id beside our own
so that a job survives a provider being swapped out, and it keeps what the team thinks of a take
(rating, notes, tags, pick) next to how it was made (prompt, parameters, lineage).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    """Where a job is in its life, from our side of the wire.

    The API's four words are kept, with three of ours: `downloading` (the provider finished, we are
    fetching the files; a job is `completed` only once its files are on disk and verified),
    `timed_out` (we stopped waiting; a re-check may bring it back) and `needs_look` (its create was
    never confirmed and the provider cannot tell us whether it made it: it may exist and be paid for,
    so it is neither failed nor sent again until a person re-checks it, attaches the provider's id,
    marks it failed, or retries it knowing it may pay twice), and `waiting`: accepted and recorded here,
    but not sent yet, because the provider refused in a way that proves nothing was made (a 429, too many
    concurrent tasks, a refused connection) or its concurrency limit is full. The send queue
    (`dailies/send_queue.py`) sends it when the provider allows; its `wait_reason` and `next_try_at` say
    why and when.
    """

    WAITING = "waiting"
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    DOWNLOADING = "downloading"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    NEEDS_LOOK = "needs_look"

    @property
    def label(self) -> str:
        """The status as the pages say it."""
        if self is JobStatus.WAITING:
            return "waiting to send"
        return "needs a look" if self is JobStatus.NEEDS_LOOK else self.replace("_", " ")

    @property
    def is_active(self) -> bool:
        """The tracker still has work to do for this job."""
        return self in ACTIVE_STATUSES

    @property
    def is_final(self) -> bool:
        return not self.is_active


ACTIVE_STATUSES = frozenset({JobStatus.WAITING, JobStatus.QUEUED, JobStatus.IN_PROGRESS, JobStatus.DOWNLOADING})


MOVES: dict[JobStatus, frozenset[JobStatus]] = {
    # Never sent: it leaves only to be sent (`queued`, just before its create leaves) or cancelled or refused.
    JobStatus.WAITING: frozenset({JobStatus.QUEUED, JobStatus.FAILED}),
    # Sent (or about to be): the provider's answer may say anything; the send queue may hold it back (`waiting`);
    # the tracker may time it out, or, when its create was never confirmed, ask a person to look.
    JobStatus.QUEUED: frozenset({JobStatus.WAITING, JobStatus.IN_PROGRESS, JobStatus.DOWNLOADING, JobStatus.COMPLETED,
                                 JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.NEEDS_LOOK}),
    # Being made: back in the provider's queue, finished (its files fetched next), failed, or waited out.
    JobStatus.IN_PROGRESS: frozenset({JobStatus.QUEUED, JobStatus.DOWNLOADING, JobStatus.FAILED, JobStatus.TIMED_OUT}),
    # Fetching the files: complete once they are verified, failed, or asked about again (a re-check).
    JobStatus.DOWNLOADING: frozenset({JobStatus.IN_PROGRESS, JobStatus.COMPLETED, JobStatus.FAILED}),
    # Complete: fetched again (a file went missing, a re-download), or failed (an assembly whose file is lost:
    # nothing can fetch it again).
    JobStatus.COMPLETED: frozenset({JobStatus.DOWNLOADING, JobStatus.FAILED}),
    # Failed: a provider-made take may be fetched again (re-download) or asked about again (a failed download).
    JobStatus.FAILED: frozenset({JobStatus.IN_PROGRESS, JobStatus.DOWNLOADING}),
    # We stopped waiting: a re-check asks again (looked for anew when it has no provider id), or a person
    # marks it failed.
    JobStatus.TIMED_OUT: frozenset({JobStatus.QUEUED, JobStatus.IN_PROGRESS, JobStatus.FAILED}),
    # A person decides: re-check (looked for again), attach the provider's id (`queued`), mark it failed or
    # retry it knowingly (this one `failed`).
    JobStatus.NEEDS_LOOK: frozenset({JobStatus.QUEUED, JobStatus.FAILED}),
}
"""Every move out of every status, declared once and enforced by both stores' `update` (`IllegalTransition`).
A job may always stay where it is (an update of its other fields). Nothing moves into `waiting` but from
`queued`: a take waits only from before its create was answered. `completed` comes from `downloading` (its
files verified) or from `queued` (a create answered as done)."""


class IllegalTransition(ValueError):
    """A status change that `MOVES` does not declare: the store wrote nothing. A bug where it is raised (a
    move the code makes without declaring it), never a user's mistake."""

    def __init__(self, job_id: str, old: JobStatus, new: JobStatus) -> None:
        allowed = ", ".join(sorted(MOVES[old])) or "nowhere"
        super().__init__(f"{job_id} cannot go from {old} to {new} (from {old} a job goes to {allowed})")
        self.job_id, self.old, self.new = job_id, old, new


def may_move(old: JobStatus, new: JobStatus) -> bool:
    """Whether a job may go from `old` to `new` (see MOVES)."""
    return old == new or new in MOVES[old]


def check_move(job_id: str, old: JobStatus, new: JobStatus) -> None:
    """Raise `IllegalTransition` unless a job may go from `old` to `new` (what both stores call before writing)."""
    if not may_move(old, new):
        raise IllegalTransition(job_id, old, new)


class JobKind(StrEnum):
    GENERATE = "generate"
    REMIX = "remix"
    EXTEND = "extend"
    EDIT = "edit"
    ASSEMBLE = "assemble"
    """Takes joined into one video here (a storyboard's assembly), not made by a provider."""


# Status words that gateways speaking this API use for other vendors (LiteLLM's Veo route says
# `processing`, Runway says `succeeded`, ...), folded onto our lifecycle. An unknown word is treated
# as still running, so a job is never dropped because a vendor invented a new word.
_STATUS_WORDS: dict[str, JobStatus] = {
    **dict.fromkeys(
        ("queued", "pending", "submitted", "created", "not_started", "waiting", "scheduled"),
        JobStatus.QUEUED,
    ),
    **dict.fromkeys(
        ("in_progress", "processing", "running", "generating", "started", "rendering", "active"),
        JobStatus.IN_PROGRESS,
    ),
    **dict.fromkeys(
        ("completed", "succeeded", "success", "successful", "done", "finished", "ready", "complete"),
        JobStatus.COMPLETED,
    ),
    **dict.fromkeys(
        (
            "failed",
            "failure",
            "error",
            "errored",
            "cancelled",
            "canceled",
            "rejected",
            "expired",
            "aborted",
            "timed_out",
            "timeout",
        ),
        JobStatus.FAILED,
    ),
}


def status_from_provider(word: str | None) -> JobStatus:
    """Map a provider's status word onto our lifecycle (unknown words count as still running)."""
    if not word:
        return JobStatus.QUEUED
    return _STATUS_WORDS.get(word.strip().lower().replace("-", "_").replace(" ", "_"), JobStatus.IN_PROGRESS)


_id_lock = threading.Lock()
_last_id_ms = 0


def new_job_id() -> str:
    """A sortable id: creation time in milliseconds, then randomness (`job_` + 12 + 8 hex digits)."""
    global _last_id_ms
    with _id_lock:
        now = max(int(time.time() * 1000), _last_id_ms + 1)
        _last_id_ms = now
    return f"job_{now:012x}{os.urandom(4).hex()}"


@dataclass
class FileRecord:
    """A file we downloaded and verified: where it is (relative to the media folder) and its digest."""

    path: str
    size: int
    sha256: str
    content_type: str = ""
    duration: float | None = None
    """Seconds of video as probed from the file when it was verified (a model may round the length it
    was asked for: an 8 s extension of a 4 s clip can come back 7.92 s); None for other files and for
    records made before it was kept."""
    bucket_key: str | None = None
    """The object key of this file in the team's bucket once uploaded and checked (`dailies/bucket.py`)."""
    bucket_etag: str | None = None
    """The bucket's ETag for that object, as it answered after the upload."""

    @property
    def in_bucket(self) -> bool:
        return bool(self.bucket_key and self.bucket_etag)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class JobError:
    """The server's reason, kept as it said it."""

    message: str
    code: str | None = None
    param: str | None = None
    type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> JobError | None:
        if not data:
            return None
        return cls(
            message=str(data.get("message") or data.get("code") or "unknown error"),
            code=data.get("code"),
            param=data.get("param"),
            type=data.get("type"),
        )


@dataclass
class Job:
    """One video we asked a provider for, and everything we know about it."""

    id: str
    provider: str
    model: str
    prompt: str
    kind: JobKind = JobKind.GENERATE
    size: str = ""
    seconds: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    """What was asked beyond prompt/model/size/seconds: reference file name, seed, edit source..."""

    remote_id: str | None = None
    status: JobStatus = JobStatus.QUEUED
    progress: int = 0
    error: JobError | None = None

    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    completed_at: float | None = None
    expires_at: float | None = None
    deadline_at: float | None = None

    source_job_id: str | None = None
    group_id: str | None = None
    axes: dict[str, str] = field(default_factory=dict)

    files: dict[str, FileRecord] = field(default_factory=dict)
    cost_estimate: float = 0.0

    rating: int | None = None
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    picked: bool = False

    remote: dict[str, Any] = field(default_factory=dict)
    """The provider's last video object as it sent it, unknown fields included."""

    wait_reason: str = ""
    """While `waiting`: why it has not been sent yet, in words for a person."""
    next_try_at: float | None = None
    """While `waiting`: when the send queue tries to send it next (the provider's Retry-After, or backoff)."""

    made_by: str = ""
    """Who launched it: the signed-in user's e-mail, or the name given in the browser tab (not
    authentication); empty for jobs made before this was kept, or from the command line."""

    @property
    def is_active(self) -> bool:
        return self.status.is_active

    @property
    def why(self) -> str:
        """Why it is where it is, in a line: what it waits for while waiting, else the reason it ended badly."""
        if self.status is JobStatus.WAITING:
            return f"waiting to send: {self.wait_reason}" if self.wait_reason else "waiting to send"
        return self.error.message if self.error else ""

    def next_try_in(self, now: float) -> float | None:
        """Seconds until a waiting job's next try (0 when due), or None when it is not waiting."""
        if self.status is not JobStatus.WAITING or self.next_try_at is None:
            return None
        return max(0.0, self.next_try_at - now)

    @property
    def has_video(self) -> bool:
        return "video" in self.files

    @property
    def duration(self) -> float:
        """How long the take really is: the probed length of its video, else the seconds asked for."""
        record = self.files.get("video")
        return record.duration if record is not None and record.duration else float(self.seconds)

    @property
    def is_portrait(self) -> bool:
        width, _, height = self.size.partition("x")
        return width.isdigit() and height.isdigit() and int(width) < int(height)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["status"] = str(self.status)
        data["error"] = self.error.to_dict() if self.error else None
        data["files"] = {name: rec.to_dict() for name, rec in self.files.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        known = _field_names(cls)  # worked out once: a store opens 100,000 of these
        values = {k: v for k, v in data.items() if k in known}
        values["kind"] = JobKind(values.get("kind", JobKind.GENERATE))
        values["status"] = JobStatus(values.get("status", JobStatus.QUEUED))
        values["error"] = JobError.from_dict(values.get("error"))
        values["files"] = {name: FileRecord(**rec) for name, rec in (values.get("files") or {}).items()}
        values["params"] = dict(values.get("params") or {})
        values["axes"] = dict(values.get("axes") or {})
        values["tags"] = list(values.get("tags") or [])
        values["remote"] = dict(values.get("remote") or {})
        return cls(**values)


@dataclass
class JobRequest:
    """What a user asks for, before it has been checked, priced or sent."""

    prompt: str
    model: str
    size: str
    seconds: int
    kind: JobKind = JobKind.GENERATE
    reference_path: str | None = None
    """A reference image on disk (generate) or a source video file (extend/edit without a job)."""
    reference_images: list[str] = field(default_factory=list)
    """Images on disk of a subject, product or style to keep across shots (Veo 3.1's reference images,
    Kling's elements), beyond the opening frame in `reference_path`; sent only to a model whose
    `Capabilities.subject_references(model)` is at least their number, refused before sending otherwise."""
    library_asset: dict[str, str] = field(default_factory=dict)
    """The library asset (`{"id", "name"}`) the references above came from, if any: kept on the take, so it
    says what it was made with and "run again with changes" sends the same."""
    source_job_id: str | None = None
    group_id: str | None = None
    axes: dict[str, str] = field(default_factory=dict)
    seed: int | None = None
    tags: list[str] = field(default_factory=list)
    audio: bool = True
    """Sound with the picture, on a model that renders it (`Capabilities.audio_models`): sent explicitly to
    every vendor that takes the choice and priced as chosen; False on a model that cannot be silent is
    refused before sending. Ignored by models that render no sound."""


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))
