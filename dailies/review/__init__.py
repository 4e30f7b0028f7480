"""Review as studios do it, without a UI: notes at frames, drawings, approval states, versions, exports.

What lives here (each module one idea; none imports Streamlit):
- `timecode`: frame numbers and `HH:MM:SS:FF` at a take's rate (`Clock`, read through `dailies.media`).
- `text`, `drawing`: people's text kept plain and bounded; vector drawings checked and bounded.
- `notes`: notes pinned to a frame or an in/out range, replies, done flags (`NoteBook`; a record each).
- `approvals`: the approval state machine declared as data, one record per decision (`Approvals`).
- `versions`: version stacks (v1, v2, ...) from retakes, remixes, extensions and edits (`Versions`).
- `markers`: notes to the editor: OTIO markers, Resolve's marker EDL, CSV, a ZIP of annotated frames.
- `guests`: guest links (a hashed secret opening one round, board or playlist, expiring, revocable).
- `api`: the review routes' fields, answers and OpenAPI description, without HTTP.
- `desk`: `ReviewDesk`, the rules that join them (a final take is locked; a note belongs to its version).
- `rounds`: review rounds, many people scoring the same takes (`ReviewBook`; results, bootstrap certainty).
- `compare`: which takes Compare plays side by side (the `?takes=` list, a lineage's takes, what cannot play).
- `shootout`: one prompt to several providers' models, each asked for what it can make (`Target`, `fit`).
Everything is kept in the store's named tables (`store.table`, `store.claims`), one record per note, reply
and decision, so concurrent reviewers in several processes never overwrite each other, on any store backend.
`rounds`, `compare` and `shootout` are imported by module path (`dailies.review.rounds`), not re-exported here.
May import: jobs, errors, exports, media, the store's interface, the providers' capabilities and registry; never
Streamlit or the studio.
"""

from dailies.review.approvals import INITIAL, TRANSITIONS, IllegalTransition, Locked, State
from dailies.review.desk import NoSuchTake, NotReviewable, ReviewDesk
from dailies.review.notes import Author, Note, Reply
from dailies.review.timecode import Clock, FrameOutOfRange, clock_of, to_frame, to_timecode
from dailies.review.versions import Stack

__all__ = [
    "INITIAL",
    "TRANSITIONS",
    "Author",
    "Clock",
    "FrameOutOfRange",
    "IllegalTransition",
    "Locked",
    "NoSuchTake",
    "NotReviewable",
    "Note",
    "Reply",
    "ReviewDesk",
    "Stack",
    "State",
    "clock_of",
    "to_frame",
    "to_timecode",
]
