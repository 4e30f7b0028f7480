"""A/B grids: the takes of a variant group as labelled players with rating, notes and pick."""

from __future__ import annotations

import hashlib
import json
import os
import random

import pandas as pd
import streamlit as st

from components.runtime import media_url, studio
from dailies.compare import takes_param
from dailies.jobs import Job


def label(job: Job) -> str:
    return " · ".join(f"{axis}: {value}" for axis, value in job.axes.items()) or job.id


def base_prompt(prompts: list[str]) -> str:
    """What the takes of a grid share: the words before their axis values."""
    if not prompts:
        return ""
    shared = os.path.commonprefix(prompts)  # noqa: RUF071 (character-wise is what is wanted here)
    if all(p == shared for p in prompts):  # takes of one prompt with different seeds
        return shared
    cut = max(shared.rfind(","), shared.rfind(" "))  # end on a whole word, before the first difference
    return shared[:cut].strip(" ,") if cut > 0 else shared.strip()


def blind_order(jobs: list[Job], salt: str) -> list[Job]:
    """A shuffle that stays put across reruns of one session (seeded by group and a session salt)."""
    seed = int(hashlib.sha256(f"{salt}:{jobs[0].group_id if jobs else ''}".encode()).hexdigest()[:12], 16)
    shuffled = list(jobs)
    random.Random(seed).shuffle(shuffled)
    return shuffled


def review_frame(jobs: list[Job]) -> pd.DataFrame:
    """The review as a table: what was asked, how it came out, what the team thought."""
    axes = sorted({axis for job in jobs for axis in job.axes})
    return pd.DataFrame([
        {"job": job.id, "prompt": job.prompt, **{f"axis:{a}": job.axes.get(a, "") for a in axes},
         "status": str(job.status), "rating": job.rating, "picked": job.picked, "notes": job.notes}
        for job in jobs
    ])


def review_json(jobs: list[Job]) -> str:
    return json.dumps([
        {"job": job.id, "prompt": job.prompt, "axes": job.axes, "status": str(job.status), "rating": job.rating,
         "picked": job.picked, "notes": job.notes, "remote_id": job.remote_id}
        for job in jobs
    ], indent=2)


def save_review(job_id: str, field: str, key: str) -> None:
    value = st.session_state.get(key)
    if field == "rating" and value is not None:
        value = int(value) + 1  # st.feedback's stars are 0-based
    studio().review(job_id, **{field: value})


def take_tile(job: Job, position: int, *, blind: bool) -> None:
    with st.container(border=True, key=f"take_{job.id}"):
        st.markdown(f"**Take {chr(65 + position)}**" if blind else f"**{label(job)}**")
        if job.status == "completed" and job.has_video:
            st.video(media_url(job), alt=f"Take {position + 1}")
        elif job.is_active:
            st.progress(job.progress / 100, text=f"{job.status.replace('_', ' ')} {job.progress}%")
        else:
            st.error(job.error.message if job.error else str(job.status))
        stars_key, notes_key, pick_key = f"stars_{job.id}", f"notes_{job.id}", f"pick_{job.id}"
        st.session_state.setdefault(stars_key, job.rating - 1 if job.rating else None)
        st.feedback("stars", key=stars_key, on_change=save_review, args=(job.id, "rating", stars_key))
        st.session_state.setdefault(notes_key, job.notes)
        st.text_input("Notes", key=notes_key, on_change=save_review, args=(job.id, "notes", notes_key),
                      label_visibility="collapsed", placeholder="Notes")
        st.session_state.setdefault(pick_key, job.picked)
        st.toggle("Pick", key=pick_key, on_change=save_review, args=(job.id, "picked", pick_key))
        if not blind:
            st.caption(job.prompt)


def variant_grid(group_id: str, *, blind: bool) -> None:
    jobs = studio().store.group(group_id)
    if not jobs:
        st.info("No takes in this group yet.")
        return
    ordered = blind_order(jobs, st.session_state.setdefault("blind_salt", random.random().hex())) if blind else jobs
    portrait = all(job.is_portrait for job in ordered)
    grid = st.grid(min(len(ordered), 4) if portrait else (2 if len(ordered) <= 4 else 3), gap="small")
    with grid:
        for position, job in enumerate(ordered):
            take_tile(job, position, blind=blind)
    if len(picks := [job.id for job in jobs if job.picked and job.has_video]) > 1 and not blind:  # → Compare
        st.page_link("pages/compare.py", label="Compare the picks", query_params={"takes": takes_param(picks)})
