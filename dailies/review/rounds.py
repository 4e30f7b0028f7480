"""Review rounds: many people score the same takes, and the team sees which won and how sure that is.

A grid holds one rating per take (whoever clicked last wins); a round holds one record per reviewer and
take, so five people can score one grid without overwriting each other. The organiser starts a round
on a Variants grid or any takes, blind (order shuffled per reviewer; labels, models and prompts hidden)
or labelled, and shares its link. Each reviewer scores every take (1–5 stars and an optional note) and
submits; only submitted reviews count, and a reviewer sees the results only once they have submitted,
so nobody is swayed by the others. The organiser sees them at any time: through the organiser link made
when the round starts (its secret is shown once and only its hash is kept), or signed in as the identity
that started it; typing the organiser's name grants nothing. In pairwise mode a reviewer sees two takes
at a time and chooses one; the ranking comes from a Bradley–Terry fit (`choix`).

Certainty is said honestly: with fewer than `MIN_REVIEWERS` reviewers the results say "too few reviews
to call"; otherwise the reviewers are resampled (a bootstrap) and the leader is called only when it
ranks first in at least `CALL_SHARE` of the resamples.

Records live in the store (`Store.table`: the journal or PostgreSQL), so they follow the store's rules across
processes: rounds in `review_rounds`, scores and choices in `reviews`, keyed by round, reviewer and
take (or pair), so no reviewer's write can land on another's record.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import os
import random
import secrets
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from dailies.errors import ValidationError
from dailies.store import Store

__all__ = [
    "CALL_SHARE",
    "MIN_REVIEWERS",
    "AxisEffect",
    "Certainty",
    "ReviewBook",
    "Round",
    "RoundResults",
    "TakeResult",
    "reviewer_key",
]

ROUNDS_TABLE = "review_rounds"
REVIEWS_TABLE = "reviews"
MIN_REVIEWERS = 3
"""Below this many submitted reviewers a ranking is not called: two people agreeing is not a verdict."""
CALL_SHARE = 0.95
"""The share of bootstrap resamples in which the leader must rank first for the results to call it."""
RESAMPLES = 2000
MAX_STARS = 5
Mode = Literal["scores", "pairwise"]


def reviewer_key(name: str) -> str:
    """A reviewer's part of a record's key: the name as typed (or signed in), case and spaces aside.

    Two people giving the same name count as one reviewer; the pages say so where the name is asked.
    """
    folded = " ".join(name.split()).casefold()
    if not folded:
        raise ValidationError("A reviewer needs a name.")
    return hashlib.sha256(folded.encode()).hexdigest()[:16]


def new_round_id() -> str:
    return f"rev_{int(time.time() * 1000):012x}{os.urandom(3).hex()}"


@dataclass
class Round:
    """One review round: which takes, how they are shown, who started it, and the winner once picked."""

    id: str
    takes: list[str]
    title: str = ""
    blind: bool = True
    mode: Mode = "scores"
    created_by: str = ""
    """The organiser's name as shown ("started by"); a name anyone can type, so it grants nothing."""
    created_at: float = field(default_factory=time.time)
    winner: str | None = None
    organiser_hash: str = ""
    """SHA-256 of the organiser link's secret: the record never holds the secret itself."""
    organiser_account: str = ""
    """The signed-in identity that started the round (empty without sign-in): it organises on any device."""
    organiser_secret: str = field(default="", repr=False, compare=False)
    """The organiser link's secret, on the round `start` returns only (shown once; never stored)."""

    @classmethod
    def from_record(cls, key: str, data: dict[str, Any]) -> Round:
        return cls(id=key, takes=list(data.get("takes") or []), title=str(data.get("title") or ""),
                   blind=bool(data.get("blind", True)), mode="pairwise" if data.get("mode") == "pairwise" else "scores",
                   created_by=str(data.get("created_by") or ""), created_at=float(data.get("created_at") or 0),
                   winner=data.get("winner"), organiser_hash=str(data.get("organiser_hash") or ""),
                   organiser_account=str(data.get("organiser_account") or ""))

    def organised_by(self, *, secret: str = "", signed_in: str = "") -> bool:
        """Whether whoever holds this organises the round: the organiser link's secret, or the signed-in
        identity that started it. A typed name never does (anyone can type the organiser's name)."""
        if secret and self.organiser_hash and hmac.compare_digest(_digest(secret), self.organiser_hash):
            return True
        return bool(signed_in and self.organiser_account) and \
            signed_in.strip().casefold() == self.organiser_account.casefold()

    def pairs(self) -> list[tuple[str, str]]:
        """Every pair of takes once, in a fixed order (the record key's order)."""
        return [tuple(sorted(pair)) for pair in itertools.combinations(self.takes, 2)]  # type: ignore[misc]


@dataclass
class TakeResult:
    """What the reviewers made of one take."""

    take: str
    rank: int | None
    """1 for the best; None while the take has no score (or no choice) yet: unranked, not joint first."""
    count: int
    mean: float | None
    spread: float | None
    """The sample standard deviation of its stars (None below two scores)."""
    low: float | None = None
    high: float | None = None
    """The 95% bootstrap interval of its mean over resampled reviewers (None below MIN_REVIEWERS)."""
    wins: int = 0
    comparisons: int = 0
    strength: float | None = None
    """Pairwise mode: the Bradley–Terry log-strength (higher is better; differences are what count)."""


@dataclass
class AxisEffect:
    """How one value of an axis of variation did: the mean of every score its takes got, against all scores."""

    axis: str
    value: str
    mean: float
    effect: float
    count: int


@dataclass
class Certainty:
    """Whether the results can name a best take, and the sentence that says so."""

    called: bool
    leader: str | None
    share: float | None
    sentence: str


@dataclass
class RoundResults:
    round: Round
    reviewers: list[str]
    takes: list[TakeResult]
    certainty: Certainty
    effects: list[AxisEffect]
    notes: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        shown = {k: v for k, v in asdict(self.round).items() if k not in ("organiser_hash", "organiser_secret")}
        return {"round": shown, "reviewers": self.reviewers, "takes": [asdict(t) for t in self.takes],
                "certainty": asdict(self.certainty), "axis_effects": [asdict(e) for e in self.effects],
                "notes": self.notes}


class ReviewBook:
    """The review rounds of one store. Safe to share between threads and processes, like the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._rounds = store.table(ROUNDS_TABLE)
        self._reviews = store.table(REVIEWS_TABLE)

    # -- rounds -------------------------------------------------------------------------------------

    def start(self, takes: Sequence[str], *, title: str = "", blind: bool = True, mode: Mode = "scores",
              created_by: str = "", signed_in: str = "") -> Round:
        """Open a round on these takes (each must exist and have a video); nothing is written on refusal.

        The round returned carries `organiser_secret`, the organiser link's secret, this once: the record
        keeps only its hash (and `signed_in`, the signed-in identity starting it, when there is one)."""
        ids = list(dict.fromkeys(takes))
        if len(ids) < 2:
            raise ValidationError("A review round needs at least two takes.")
        for job_id in ids:
            job = self.store.get(job_id)
            if job is None:
                raise ValidationError(f"There is no take {job_id!r} here.")
            if not job.has_video:
                raise ValidationError(f"{job_id} has no video yet ({job.status.label}); review it once it has one.")
        if mode not in ("scores", "pairwise"):
            raise ValidationError(f"A round scores takes or compares pairs, not {mode!r}.")
        secret = secrets.token_urlsafe(24)
        found = Round(id=new_round_id(), takes=ids, title=title.strip(), blind=blind, mode=mode,
                      created_by=created_by.strip(), organiser_hash=_digest(secret),
                      organiser_account=signed_in.strip(), organiser_secret=secret)
        data = asdict(found)
        del data["id"], data["organiser_secret"]
        self._rounds.set(found.id, **data)
        return found

    def get(self, round_id: str) -> Round | None:
        data = self._rounds.get(round_id)
        return Round.from_record(round_id, data) if data is not None else None

    def require(self, round_id: str) -> Round:
        found = self.get(round_id)
        if found is None:
            raise ValidationError(f"There is no review round {round_id!r} here.")
        return found

    def rounds(self) -> list[Round]:
        """Every round, newest first."""
        found = [Round.from_record(key, data) for key, data in self._rounds.all().items()]
        return sorted(found, key=lambda r: r.created_at, reverse=True)

    def order_for(self, round_id: str, reviewer: str) -> list[str]:
        """The takes in the order this reviewer sees them: shuffled per reviewer when blind, stable across visits."""
        found = self.require(round_id)
        if not found.blind:
            return list(found.takes)
        shuffled = list(found.takes)
        random.Random(_seed(found.id, reviewer_key(reviewer))).shuffle(shuffled)
        return shuffled

    def pairs_for(self, round_id: str, reviewer: str) -> list[tuple[str, str]]:
        """The pairs this reviewer is shown, as (left, right): order and sides shuffled per reviewer."""
        found = self.require(round_id)
        rng = random.Random(_seed(found.id, reviewer_key(reviewer), "pairs"))
        shown = [(a, b) if rng.random() < 0.5 else (b, a) for a, b in found.pairs()]
        rng.shuffle(shown)
        return shown

    # -- a reviewer's work ---------------------------------------------------------------------------

    def _key(self, round_id: str, reviewer: str, item: str) -> str:
        return f"{round_id}/{reviewer_key(reviewer)}/{item}"

    def _mine(self, round_id: str, reviewer: str) -> dict[str, dict[str, Any]]:
        prefix = f"{round_id}/{reviewer_key(reviewer)}/"
        return {key.removeprefix(prefix): data for key, data in self._reviews.all().items() if key.startswith(prefix)}

    def score(self, round_id: str, reviewer: str, take: str, *, stars: int | None = None,
              note: str | None = None) -> None:
        """Keep a reviewer's stars and/or note for one take (a draft until they submit)."""
        found = self.require(round_id)
        if found.mode != "scores":
            raise ValidationError("This round compares pairs; choose one take of each pair instead.")
        if take not in found.takes:
            raise ValidationError(f"{take} is not one of this round's takes.")
        if self.submitted(round_id, reviewer):
            raise ValidationError("Your scores for this round are submitted and can no longer change.")
        fields: dict[str, Any] = {"round": round_id, "reviewer": reviewer.strip(), "take": take, "at": time.time()}
        if stars is not None:
            if not 1 <= int(stars) <= MAX_STARS:
                raise ValidationError(f"A score is 1 to {MAX_STARS} stars.")
            fields["stars"] = int(stars)
        if note is not None:
            fields["note"] = note.strip()
        self._reviews.set(self._key(round_id, reviewer, take), **fields)

    def scores_of(self, round_id: str, reviewer: str) -> dict[str, dict[str, Any]]:
        """This reviewer's records of the round, by take."""
        return {item: data for item, data in self._mine(round_id, reviewer).items() if "take" in data}

    def missing(self, round_id: str, reviewer: str) -> list[str]:
        """The takes this reviewer has not given stars yet (scores mode) or pairs not chosen (pairwise)."""
        found = self.require(round_id)
        mine = self._mine(round_id, reviewer)
        if found.mode == "pairwise":
            return [f"{a}~{b}" for a, b in found.pairs() if f"{a}~{b}" not in mine]
        return [take for take in found.takes if not (mine.get(take) or {}).get("stars")]

    def submit(self, round_id: str, reviewer: str) -> None:
        """Hand in a reviewer's scores: from now on they count, and the reviewer may see the results."""
        if self.submitted(round_id, reviewer):
            return
        left = self.missing(round_id, reviewer)
        if left:
            raise ValidationError(f"Score every take first: {len(left)} still without stars.")
        now = time.time()
        for take in self.require(round_id).takes:  # counted once every take of the reviewer carries it
            self._reviews.set(self._key(round_id, reviewer, take), submitted_at=now)

    def submitted(self, round_id: str, reviewer: str) -> bool:
        found = self.get(round_id)
        if found is None:
            return False
        mine = self._mine(round_id, reviewer)
        if found.mode == "pairwise":
            return bool(found.pairs()) and all(f"{a}~{b}" in mine for a, b in found.pairs())
        return bool(mine) and all((mine.get(take) or {}).get("submitted_at") for take in found.takes)

    def choose(self, round_id: str, reviewer: str, pair: tuple[str, str], winner: str) -> None:
        """Record which take of a pair a reviewer chose (pairwise mode); a choice made is final."""
        found = self.require(round_id)
        if found.mode != "pairwise":
            raise ValidationError("This round scores every take; it has no pairs.")
        a, b = sorted(pair)
        if (a, b) not in found.pairs() or winner not in (a, b):
            raise ValidationError("That pair is not one of this round's.")
        key = self._key(round_id, reviewer, f"{a}~{b}")
        if self._reviews.get(key) is not None:
            raise ValidationError("You already chose in this pair.")
        self._reviews.set(key, round=round_id, reviewer=reviewer.strip(), pair=[a, b], winner=winner, at=time.time())

    # -- results --------------------------------------------------------------------------------------

    def records(self, round_id: str) -> list[dict[str, Any]]:
        """Every record that counts: the scores of reviewers who submitted all of theirs, and every choice
        (a choice is final when made)."""
        found = self.require(round_id)
        prefix = f"{round_id}/"
        mine: dict[str, list[dict[str, Any]]] = {}
        for key, data in sorted(self._reviews.all().items()):
            if key.startswith(prefix):
                mine.setdefault(key.split("/")[1], []).append(data)
        counted = []
        for records in mine.values():
            choices = [r for r in records if "winner" in r]
            scores = [r for r in records if r.get("take") in found.takes]
            if found.mode == "pairwise":
                counted.extend(choices)
            elif len(scores) == len(found.takes) and all(r.get("submitted_at") and r.get("stars") for r in scores):
                counted.extend(scores)
        return counted

    def results(self, round_id: str, *, resamples: int = RESAMPLES) -> RoundResults:
        found = self.require(round_id)
        records = self.records(round_id)
        by_reviewer: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_reviewer.setdefault(record["reviewer"], []).append(record)
        reviewers = sorted(by_reviewer)
        if found.mode == "pairwise":
            takes, certainty = _pairwise_results(found, by_reviewer, resamples)
        else:
            takes, certainty = _score_results(found, by_reviewer, resamples)
        notes = [{"take": r["take"], "reviewer": r["reviewer"], "note": r["note"]}
                 for r in records if r.get("note")]
        return RoundResults(found, reviewers, takes, certainty, self._effects(found, records), notes)

    def _effects(self, found: Round, records: list[dict[str, Any]]) -> list[AxisEffect]:
        """Per axis value, the mean of every score (or the share of choices won) its takes got, against all."""
        axes_of = {take: (job.axes if (job := self.store.get(take)) else {}) for take in found.takes}
        points: list[tuple[str, float]] = []  # (take, value) per score, or per choice for each side
        for record in records:
            if "stars" in record:
                points.append((record["take"], float(record["stars"])))
            elif "winner" in record:
                points.extend((take, 1.0 if take == record["winner"] else 0.0) for take in record["pair"])
        if not points:
            return []
        overall = statistics.fmean(v for _, v in points)
        effects = []
        for axis in sorted({a for axes in axes_of.values() for a in axes}):
            values = sorted({axes[axis] for axes in axes_of.values() if axis in axes})
            if len(values) < 2:
                continue
            for value in values:
                got = [v for take, v in points if axes_of[take].get(axis) == value]
                if got:
                    mean = statistics.fmean(got)
                    effects.append(AxisEffect(axis, value, round(mean, 4), round(mean - overall, 4), len(got)))
        return effects

    def mark_winner(self, round_id: str, take: str) -> None:
        """Record the round's winner and mark the take picked for its group."""
        found = self.require(round_id)
        if take not in found.takes:
            raise ValidationError(f"{take} is not one of this round's takes.")
        self._rounds.set(round_id, winner=take)
        self.store.update(take, picked=True)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _seed(*parts: str) -> int:
    return int(hashlib.sha256(":".join(parts).encode()).hexdigest()[:12], 16)


def _score_results(found: Round, by_reviewer: dict[str, list[dict[str, Any]]],
                   resamples: int) -> tuple[list[TakeResult], Certainty]:
    stars = {take: [float(r["stars"]) for rs in by_reviewer.values() for r in rs if r.get("take") == take]
             for take in found.takes}
    results = []
    for take in found.takes:
        got = stars[take]
        results.append(TakeResult(take=take, rank=0, count=len(got), mean=statistics.fmean(got) if got else None,
                                  spread=statistics.stdev(got) if len(got) > 1 else None))
    # Resample whole reviewers: one person's scores of the takes go together.
    matrix = np.array([[next((float(r["stars"]) for r in rs if r.get("take") == take), np.nan)
                        for take in found.takes] for rs in by_reviewer.values()]).reshape(len(by_reviewer),
                                                                                        len(found.takes))
    _rank(results, lambda t: t.mean)
    return results, _bootstrap(found, results, matrix, resamples, lambda sample: np.nanmean(sample, axis=0),
                               what="reviews")


def _pairwise_results(found: Round, by_reviewer: dict[str, list[dict[str, Any]]],
                      resamples: int) -> tuple[list[TakeResult], Certainty]:
    import choix  # a maintained Bradley–Terry fit; imported here so the app starts without loading scipy

    index = {take: i for i, take in enumerate(found.takes)}
    choices = {name: [(index[r["winner"]], index[next(t for t in r["pair"] if t != r["winner"])])
                      for r in rs if "winner" in r] for name, rs in by_reviewer.items()}

    def strengths(per_reviewer: Iterable[list[tuple[int, int]]]) -> np.ndarray:
        data = [c for cs in per_reviewer for c in cs]
        if not data:
            return np.full(len(found.takes), np.nan)
        # A little regularisation keeps a take that won (or lost) every time finite.
        return np.asarray(choix.ilsr_pairwise(len(found.takes), data, alpha=0.01))

    fitted = strengths(choices.values())
    results = []
    for take, i in index.items():
        wins = sum(1 for cs in choices.values() for w, _ in cs if w == i)
        seen = sum(1 for cs in choices.values() for w, loser in cs if i in (w, loser))
        results.append(TakeResult(take=take, rank=0, count=seen, mean=None, spread=None, wins=wins, comparisons=seen,
                                  strength=None if math.isnan(fitted[i]) else round(float(fitted[i]), 4)))
    _rank(results, lambda t: t.strength)
    people = list(choices.values())
    return results, _bootstrap(found, results, people, resamples,
                               lambda sample: strengths(sample), what="reviewers' choices")


def _rank(results: list[TakeResult], value) -> None:
    """Rank by `value`, highest first (ties share a rank); unscored takes come last, unranked (None)."""
    ordered = sorted(results, key=lambda t: (value(t) is None, -(value(t) or 0.0), t.take))
    for position, take in enumerate(ordered):
        previous = ordered[position - 1] if position else None
        if value(take) is None:
            take.rank = None
        else:
            take.rank = previous.rank if previous and value(previous) == value(take) else position + 1
    results.sort(key=lambda t: (t.rank is None, t.rank or 0, t.take))


def _bootstrap(found: Round, results: list[TakeResult], people: Any, resamples: int, estimate,
               *, what: str) -> Certainty:
    """Resample the reviewers; fill each take's 95% interval and say whether the leader can be called."""
    count = len(people)
    leader = results[0] if results and (results[0].mean is not None or results[0].strength is not None) else None
    if count < MIN_REVIEWERS or leader is None:
        return Certainty(False, leader.take if leader else None, None,
                         f"Too few reviews to call: {count} reviewer{'s' if count != 1 else ''} submitted; "
                         f"at least {MIN_REVIEWERS} are needed before the results name a winner.")
    rng = np.random.default_rng(_seed(found.id, "bootstrap"))
    columns = [found.takes.index(t.take) for t in results]
    samples = []
    for _ in range(resamples):
        picks = rng.integers(0, count, count)
        sample = people[picks] if isinstance(people, np.ndarray) else [people[i] for i in picks]
        samples.append(estimate(sample))
    values = np.array(samples)  # resamples × takes, in the round's take order
    for result, column in zip(results, columns, strict=True):
        got = values[:, column][~np.isnan(values[:, column])]
        if len(got):
            result.low, result.high = (round(float(q), 3) for q in np.quantile(got, [0.025, 0.975]))
    lead = columns[0]
    others = np.delete(values, lead, axis=1)
    first = np.all(np.nan_to_num(values[:, [lead]], nan=-np.inf) > np.nan_to_num(others, nan=-np.inf), axis=1)
    share = float(first.mean())
    if len(results) > 1 and results[1].rank == results[0].rank:
        return Certainty(False, None, share, "Too close to call: the top takes are tied.")
    if share >= CALL_SHARE:
        return Certainty(True, leader.take, share, f"{leader.take} is the best take: it ranks first in "
                         f"{share:.0%} of {resamples:,} resamples of the {what}.")
    return Certainty(False, leader.take, share, f"Too close to call: {leader.take} leads, but ranks first in only "
                     f"{share:.0%} of {resamples:,} resamples of the {what} (a call needs {CALL_SHARE:.0%}).")
