"""The pieces of the review pages: a take to score, a pair to choose from, and the results as tables.

A blind round shows a reviewer "Take 1…n" in their own shuffled order, with no axis labels, model or prompt; a
labelled round shows them. Every take plays in the review player (notes at a frame, replies, done), and a blind
round's player gets only "Take n" / "Left" / "Right" for a take, never its request. Results reveal the labels (a
reviewer sees them only after submitting). Labels, notes and names are people's text, so they go through `plain()`
or into tables.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from components.identity import current_person
from components.review_player import review_player, saved_toast
from components.runtime import media_url, studio
from components.text import plain
from dailies.errors import ValidationError
from dailies.exports import safe_csv
from dailies.jobs import Job
from dailies.review import Author, ReviewDesk
from dailies.review.rounds import ReviewBook, Round, RoundResults

ORGANISER_SECRETS = "organiser_secrets"
"""Session key: round id -> the organiser link's secret this tab holds (made here, or opened by link)."""


def organiser_link(round_id: str, secret: str) -> str:
    """The address that opens a round's results to its organiser at any time, from any tab or device."""
    base = (st.context.url or "").split("?", 1)[0].rstrip("/")
    base = base.rsplit("/", 1)[0] if base.rsplit("/", 1)[-1] in ("review", "review_results") else base
    return f"{base}/review_results?round={round_id}&organiser={secret}"


def show_organiser_link(round_id: str) -> None:
    """The organiser link, to the one who started the round, in this tab only: it is not kept anywhere else,
    so the page says to keep it (the code block has a copy button)."""
    secret = st.session_state.get(ORGANISER_SECRETS, {}).get(round_id)
    if not secret:
        return
    with st.container(border=True, key=f"rv_organiser_{round_id}"):
        st.markdown("**Your organiser link**: it opens the results at any time, before anyone has reviewed, "
                    "on any device. Keep it: it is shown only here, in this tab, and is not stored anywhere "
                    "else. Do not share it with the reviewers.")
        st.code(organiser_link(round_id, secret), language=None)


def book() -> ReviewBook:
    """The review rounds of the shared store (a light view: every read goes to the store's snapshot)."""
    return ReviewBook(studio().store)


def take_label(job_id: str) -> str:
    """What a take is, in the words of its grid: its axis values, else its id; with its model."""
    job = studio().takes.get(job_id)
    if job is None:
        return f"{job_id} (deleted)"
    axes = " · ".join(f"{axis}: {value}" for axis, value in job.axes.items())
    return f"{axes or job.id} ({job.model})"


def _desk() -> ReviewDesk:
    shared = studio()
    return ReviewDesk(shared.store, shared.media)  # no state of its own: cheap to make per run


def author_of(name: str | None) -> Author | None:
    """A typed name as a note's author, or None (the player then asks for a name and stores nothing)."""
    try:
        return Author.typed(name) if name else None
    except ValidationError:
        return None


def round_player(jobs: list[Job], labels: list[str] | None, *, key: str, reviewer: str | None) -> None:
    """The takes in the review player, notes at a frame pinned to the first, written as the reviewer. A blind
    round passes `labels` ("Take 2", "Left"): the browser gets those and no caption, so no model, axis or
    prompt reaches the player's data or DOM."""
    if not jobs:
        return
    saved_toast(key)
    review_player(jobs, key=key, desk=_desk(), url_of=media_url, author=author_of(reviewer), labels=labels)


def _save_score(round_id: str, reviewer: str, take: str, stars_key: str, note_key: str) -> None:
    stars = st.session_state.get(stars_key)
    try:
        book().score(round_id, reviewer, take, stars=None if stars is None else int(stars) + 1,
                     note=str(st.session_state.get(note_key) or ""))
    except ValidationError as exc:
        st.session_state["review_problem"] = str(exc)


def score_tile(found: Round, reviewer: str, take: str, position: int, saved: dict) -> None:
    """One take to score: the player, the stars and a note (kept as a draft at once, counted on submit)."""
    job = studio().takes.get(take)
    with st.container(border=True, key=f"review_take_{position + 1}"):
        st.markdown(f"**Take {position + 1}**" if found.blind else f"**{plain(take_label(take))}**")
        if job is not None and job.has_video:
            round_player([job], [f"Take {position + 1}"] if found.blind else None, key=f"rp_{found.id}_{position}",
                         reviewer=reviewer)
        else:
            st.warning("This take's video is gone (deleted); score the others.")
        stars_key, note_key = f"rs_{found.id}_{take}", f"rn_{found.id}_{take}"
        st.session_state.setdefault(stars_key, saved["stars"] - 1 if saved.get("stars") else None)
        st.session_state.setdefault(note_key, saved.get("note", ""))
        args = (found.id, reviewer, take, stars_key, note_key)
        st.feedback("stars", key=stars_key, on_change=_save_score, args=args)
        st.text_input("Note", key=note_key, on_change=_save_score, args=args, placeholder="A note (optional)",
                      label_visibility="collapsed")
        if not found.blind and job is not None:
            st.caption(plain(job.prompt))


def _choose(round_id: str, reviewer: str, pair: tuple[str, str], winner: str) -> None:
    try:
        book().choose(round_id, reviewer, pair, winner)
    except ValidationError as exc:
        st.session_state["review_problem"] = str(exc)


def choose_pair(found: Round, reviewer: str, pair: tuple[str, str], number: int, total: int) -> None:
    """Two takes side by side in sync, and a button under each to choose it."""
    left, right = pair
    st.progress(number / total, text=f"Pair {number + 1} of {total}")
    jobs = [studio().takes.get(take) for take in pair]  # None: deleted since the round began
    names = ["Left", "Right"] if found.blind else [take_label(take) for take in pair]
    shown = [(name, job) for name, job in zip(names, jobs, strict=True) if job is not None and job.has_video]
    if len(shown) < len(pair):
        st.warning("A take of this pair is gone (deleted); choose the other.")
    round_player([job for _, job in shown], [name for name, _ in shown], key=f"pair_{found.id}_{number}",
                 reviewer=reviewer)
    with st.container(horizontal=True):
        st.button(f"{plain(names[0])} is better", key="choose_left", on_click=_choose,
                  args=(found.id, reviewer, pair, left), icon=":material/arrow_back:", width="stretch")
        st.button(f"{plain(names[1])} is better", key="choose_right", on_click=_choose,
                  args=(found.id, reviewer, pair, right), icon=":material/arrow_forward:", width="stretch")


def results_table(results: RoundResults) -> pd.DataFrame:
    """The ranking as the page shows and exports it: one row per take."""
    rows = []
    for take in results.takes:
        row = {"rank": "—" if take.rank is None else str(take.rank), "take": take_label(take.take), "job": take.take}
        if results.round.mode == "pairwise":
            row.update(wins=take.wins, comparisons=take.comparisons,
                       strength=None if take.strength is None else round(take.strength, 2))
        else:
            row.update(mean=None if take.mean is None else round(take.mean, 2), reviews=take.count,
                       spread=None if take.spread is None else round(take.spread, 2))
        row["95% interval"] = f"{take.low:.2f}–{take.high:.2f}" if take.low is not None else "too few reviews"
        row["picked"] = "winner" if results.round.winner == take.take else ""
        rows.append(row)
    return pd.DataFrame(rows)


def ranked_players(results: RoundResults, columns: int = 3) -> None:
    """The ranked takes as players, best first, each under its rank and label, so the ranking can be
    watched rather than only read (a deleted take says so in its place)."""
    grid = st.grid(min(columns, max(1, len(results.takes))), gap="small")
    with grid:
        for take in results.takes:
            job = studio().takes.get(take.take)
            with st.container(border=True, key=f"rr_take_{take.take}"):
                rank = "Unranked" if take.rank is None else f"#{take.rank}"
                st.markdown(f"**{rank}** · {plain(take_label(take.take))}")
                if job is not None and job.has_video:
                    saved_toast(f"rr_player_{take.take}")
                    review_player([job], key=f"rr_player_{take.take}", desk=_desk(), url_of=media_url,
                                  author=author_of(current_person()))
                else:
                    st.caption("This take's video is gone (deleted).")


def effects_table(results: RoundResults) -> pd.DataFrame:
    what = "share of choices won" if results.round.mode == "pairwise" else "mean stars"
    return pd.DataFrame([{"axis": e.axis, "value": e.value, what: round(e.mean, 2), "effect": round(e.effect, 2),
                          "scores": e.count} for e in results.effects])


def raw_records(records: list[dict]) -> pd.DataFrame:
    """Every counted record (`ReviewBook.records`), one row per reviewer and take (or pair), for the export."""
    rows = [{"reviewer": r["reviewer"], "take": r.get("take", ""), "stars": r.get("stars"), "note": r.get("note", ""),
             "pair": "~".join(r.get("pair", [])), "chose": r.get("winner", "")} for r in records]
    return pd.DataFrame(rows)


def exports(results: RoundResults) -> None:
    found = results.round
    ranking = results_table(results)
    raw = raw_records(book().records(found.id))
    data = {**results.to_dict(), "labels": {take: take_label(take) for take in found.takes},
            "records": raw.to_dict("records")}
    with st.container(horizontal=True):
        st.download_button("Export CSV", safe_csv(ranking), f"{found.id}-results.csv", "text/csv",
                           key="rr_csv", on_click="ignore", icon=":material/table:")
        st.download_button("Export every score (CSV)", safe_csv(raw), f"{found.id}-scores.csv", "text/csv",
                           key="rr_raw", on_click="ignore", icon=":material/table_rows:")
        st.download_button("Export JSON", json.dumps(data, indent=2, default=str), f"{found.id}-results.json",
                           "application/json", key="rr_json", on_click="ignore", icon=":material/data_object:")
