"""Approval states: a small state machine declared once as data, and one record per decision.

A take starts `in_review`. Each decision a reviewer makes moves it along `TRANSITIONS` (or concurs with
the status it has, `CONCUR`), and is its own record in `review_decisions` (who, when, an optional note,
the status before and after). The take's status is the `to` of its latest decision (`status_rule`); each
reviewer's latest decision is shown side by side. A take that is `final` is locked: notes and decisions
are refused with a sentence until someone reopens it (final → in_review).

Decisions on one take are ordered by a sequence number claimed in the store (`Claims`, one compare-and-set
across processes): of two reviewers deciding at the same moment one gets the slot, the other re-reads the
status and is checked again, so no decision is taken against a status that has already changed. The
claim's record is the decision itself; the table beside it is how decisions are listed, and a decision
whose process died between the two is copied over by the next one.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from dailies.errors import RequestRefused, ValidationError
from dailies.review.ids import new_id
from dailies.review.notes import Author
from dailies.review.text import MAX_NOTE, plain_text

__all__ = ["CONCUR", "DECISIONS_TABLE", "INITIAL", "TRANSITIONS", "Approvals", "Decision", "IllegalTransition",
           "Locked", "State", "status_rule"]

DECISIONS_TABLE = "review_decisions"
SLOTS_CLAIMS = "review_decision_slots"
SLOT_LIFE_S = 100 * 365 * 24 * 3600.0
"""A decision's slot is held for good (a claim needs a life; this one outlives the data)."""


class State(StrEnum):
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    FINAL = "final"


INITIAL = State.IN_REVIEW
"""A take nobody has decided on yet."""
TRANSITIONS: dict[State, frozenset[State]] = {
    State.IN_REVIEW: frozenset({State.CHANGES_REQUESTED, State.APPROVED}),
    State.CHANGES_REQUESTED: frozenset({State.IN_REVIEW, State.APPROVED}),
    State.APPROVED: frozenset({State.CHANGES_REQUESTED, State.FINAL}),
    State.FINAL: frozenset({State.IN_REVIEW}),
}
"""Where a take may go from each status. `final` only reopens (→ in_review): it is locked until then."""
CONCUR: frozenset[State] = frozenset({State.IN_REVIEW, State.CHANGES_REQUESTED, State.APPROVED})
"""Statuses a reviewer may decide again while the take has them (a second reviewer also approves, also asks
for changes): recorded as that reviewer's decision, the status unchanged. Not `final`: it is locked."""
LOCKED: frozenset[State] = frozenset({State.FINAL})
ALIASES = {"reopen": State.IN_REVIEW, "reopened": State.IN_REVIEW}


class IllegalTransition(RequestRefused):
    """A decision the state machine does not allow from the take's status (409 over the API)."""


class Locked(RequestRefused):
    """The take is final: no notes, no decisions but reopening (409 over the API)."""


@dataclass
class Decision:
    id: str
    take: str
    seq: int
    decision: State
    before: State
    author: str
    author_signed_in: bool
    text: str
    created_at: float

    @classmethod
    def from_record(cls, key: str, data: dict[str, Any]) -> Decision:
        return cls(id=key, take=str(data["take"]), seq=int(data["seq"]), decision=State(data["decision"]),
                   before=State(data.get("before") or INITIAL), author=str(data.get("author") or ""),
                   author_signed_in=bool(data.get("author_signed_in")), text=str(data.get("text") or ""),
                   created_at=float(data.get("created_at") or 0))

    def view(self) -> dict[str, Any]:
        return {**asdict(self), "decision": str(self.decision), "before": str(self.before)}


def status_rule(decisions: list[Decision]) -> State:
    """The take's status: the state its latest decision (highest sequence number) moved it to."""
    return max(decisions, key=lambda d: d.seq).decision if decisions else INITIAL


def parse_state(value: Any) -> State:
    if isinstance(value, str) and value.strip().lower() in ALIASES:
        return ALIASES[value.strip().lower()]
    try:
        return State(str(value).strip().lower())
    except ValueError:
        known = ", ".join([*(s.value for s in State), *ALIASES])
        raise ValidationError(f"decision must be one of {known}, not {value!r}.", field="decision") from None


def why_not(before: State, after: State) -> str | None:
    """Why the machine refuses `before` → `after`, in a sentence; None when it allows it."""
    if before in LOCKED and after != State.IN_REVIEW:
        return f"This take is final, so it is locked: reopen it (decision \"reopen\") before deciding {after}."
    if after == before and after in CONCUR:
        return None
    if after not in TRANSITIONS[before]:
        allowed = ", ".join(sorted(TRANSITIONS[before] | (CONCUR & {before})))
        return f"A take that is {before} cannot go to {after}; from {before} it can go to {allowed}."
    return None


class Approvals:
    """Decisions over the store: thread- and process-safe (see the module's docstring)."""

    def __init__(self, store: Any) -> None:
        self._table = store.table(DECISIONS_TABLE)
        self._slots = store.claims(SLOTS_CLAIMS)

    def history(self, take: str) -> list[Decision]:
        """Every decision on the take, oldest first."""
        found = [Decision.from_record(k, v) for k, v in self._table.all().items() if v.get("take") == take]
        return sorted(found, key=lambda d: d.seq)

    def status(self, take: str) -> State:
        return status_rule(self.history(take))

    def statuses(self) -> dict[str, State]:
        """Every decided take's status at once (one read of the table), for lists and filters; a take not
        in it is `INITIAL`."""
        latest: dict[str, tuple[int, str]] = {}
        for data in self._table.all().values():
            take, seq = str(data.get("take")), int(data.get("seq") or 0)
            if seq > latest.get(take, (0, ""))[0]:
                latest[take] = (seq, str(data.get("decision")))
        return {take: State(decision) for take, (_seq, decision) in latest.items()}

    def by_reviewer(self, take: str) -> dict[str, Decision]:
        """Each reviewer's latest decision on the take (by name as written), for showing side by side."""
        latest: dict[str, Decision] = {}
        for decision in self.history(take):
            latest[" ".join(decision.author.split()).casefold()] = decision
        return latest

    def locked(self, take: str) -> bool:
        return self.status(take) in LOCKED

    def decide(self, take: str, decision: Any, author: Author, text: Any = None) -> Decision:
        """Record `author`'s decision; IllegalTransition (or Locked) with a sentence, and nothing written,
        when the machine does not allow it from the take's status at this moment."""
        after = parse_state(decision)
        note = plain_text(text, MAX_NOTE, what="text")
        for _ in range(50):  # each turn loses only to a decision another reviewer just made
            history = self.history(take)
            before = status_rule(history)
            if (reason := why_not(before, after)) is not None:
                raise (Locked if before in LOCKED else IllegalTransition)(reason)
            seq = (history[-1].seq if history else 0) + 1
            made = Decision(id=new_id("decision"), take=take, seq=seq, decision=after, before=before,
                            author=author.name, author_signed_in=author.signed_in, text=note, created_at=time.time())
            record = {k: v for k, v in made.view().items() if k != "id"}
            claim = self._slots.claim(f"{take}#{seq}", {"id": made.id, **record}, SLOT_LIFE_S)
            if claim.claimed:
                self._table.set(made.id, **record)
                return made
            self._repair(claim.record)
        raise RequestRefused("Too many reviewers deciding on this take at once; try again.")

    def _repair(self, slot: dict[str, Any]) -> None:
        """Copy a decision whose slot was claimed but whose record is missing (its process stopped between)."""
        decision_id = slot.get("id")
        if decision_id and self._table.get(decision_id) is None:
            self._table.set(decision_id, **{k: v for k, v in slot.items() if k != "id"})
