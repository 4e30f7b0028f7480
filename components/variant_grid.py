"""A/B grids: the takes of a variant group as labelled players with rating, notes and pick."""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from components.job_card import waiting_line
from components.notes_panel import open_large
from components.review_status import status_badge
from components.runtime import media_url, studio
from components.text import plain
from dailies.batch import shortened
from dailies.exports import safe_csv
from dailies.jobs import Job, JobRequest, JobStatus
from dailies.providers.base import Capabilities
from dailies.review.compare import takes_param
from dailies.review.shootout import AXIS, Fitted, Target, capabilities_by_provider, fit, targets_of
from dailies.studio import Studio
from dailies.validation import split_axis_values


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


def grid_title(prompts: list[str], source: str = "", limit: int = 60) -> str:
    """A grid's name in a chooser: what its prompts share, or (takes of different prompts, as a batch makes)
    the prompts themselves, after the file they came from when they came from one."""
    base = "" if source else base_prompt(prompts)
    words = base if len(base) >= 12 else ", ".join(dict.fromkeys(" ".join(p.split()) for p in reversed(prompts)))
    return shortened(f"{source}: {words}" if source else words, limit)


def blind_order(jobs: list[Job], salt: str) -> list[Job]:
    """A shuffle that stays put across reruns of one session (seeded by group and a session salt)."""
    seed = int(hashlib.sha256(f"{salt}:{jobs[0].group_id if jobs else ''}".encode()).hexdigest()[:12], 16)
    shuffled = list(jobs)
    random.Random(seed).shuffle(shuffled)
    return shuffled


def review_rows(jobs: list[Job]) -> list[dict[str, object]]:
    """The review as it shows on screen: whole stars (blank when unrated), pick, notes as typed."""
    axes = sorted({axis for job in jobs for axis in job.axes})
    return [
        {"job": job.id, "prompt": job.prompt, **{f"axis:{a}": job.axes.get(a, "") for a in axes},
         "status": str(job.status), "rating": int(job.rating) if job.rating else None, "picked": bool(job.picked),
         "notes": job.notes or ""}
        for job in jobs
    ]


def review_frame(jobs: list[Job]) -> pd.DataFrame:
    """The review as a table: what was asked, how it came out, what the team thought."""
    frame = pd.DataFrame(review_rows(jobs))
    if "rating" in frame:
        frame["rating"] = frame["rating"].astype("Int64")  # 4, not 4.0; blank when unrated
    return frame


def review_csv(jobs: list[Job]) -> str:
    """The review as CSV for a spreadsheet (people's text never runs as a formula)."""
    return safe_csv(review_frame(jobs))


def review_json(jobs: list[Job]) -> str:
    rows = review_rows(jobs)
    for row, job in zip(rows, jobs, strict=True):
        axes = {key.removeprefix("axis:"): row.pop(key) for key in list(row) if key.startswith("axis:")}
        row.update(axes={a: v for a, v in axes.items() if a in job.axes}, remote_id=job.remote_id)
    return json.dumps(rows, indent=2)


def review_exports(group_id: str, *, blind: bool) -> None:
    """CSV and JSON of the grid as it stands now; hidden in blind review, where labels are the point."""
    if blind:
        st.caption("Reveal the labels to export the review.")
        return
    takes = studio().takes.group(group_id)
    with st.container(horizontal=True):
        st.download_button("Export CSV", review_csv(takes), f"{group_id}-review.csv",
                           "text/csv", key="v_csv", on_click="ignore", icon=":material/table:")
        st.download_button("Export JSON", review_json(takes), f"{group_id}-review.json", "application/json",
                           key="v_json", on_click="ignore", icon=":material/data_object:")


def axes_from_table(rows: Iterable[Mapping[str, object]]) -> dict[str, list[str]]:
    """Named axes with at least one value, the values split however they were typed."""
    axes: dict[str, list[str]] = {}
    for row in rows:
        name = row.get("axis")
        values = split_axis_values(row.get("values") if isinstance(row.get("values"), str) else "")
        if isinstance(name, str) and name.strip() and values:
            axes[name.strip()] = values
    return axes


def axis_chips(axes: Mapping[str, list[str]]) -> None:
    """Each axis's values as chips, so what was understood from the typing is plain to see."""
    if not axes:
        st.caption("No axis has values yet: the grid is the base prompt alone.")
        return
    with st.container(horizontal=True):
        for name, values in axes.items():
            st.pills(f"{plain(name)} ({len(values)})", [plain(v) for v in values], disabled=True)


def shootout_choice(shared: Studio, first: Target, size: str, seconds: int) -> list[Fitted]:
    """Other providers' models to send the same grid to: "provider/model" becomes an axis of the grid.

    Empty when none is chosen (the grid goes to the model above alone). Each target is asked for the
    size and length chosen above, fitted to what its model takes; the page shows the fitting.
    """
    if not st.toggle("Shoot-out: send each take to several providers' models", key="v_shootout_on",
                     help="Asks every configured provider for its models (an unreachable one can take seconds)."):
        return []
    found = capabilities_by_provider(shared, shared.providers.names())
    targets, unavailable = targets_of(found)
    others = [t.name for t in targets if t != first]
    chosen = st.multiselect("Also send each take to", others, key="v_targets",
                            format_func=lambda name: target_label(name, found),
                            placeholder="other providers' models (provider/model)",
                            help="One base prompt, several models: each take is labelled by provider/model "
                                 "(hidden in blind review); sizes and lengths are fitted to each model.")
    for provider, why in unavailable.items():
        st.caption(f"{plain(provider)} is not offered: {plain(why)}")
    if not chosen:
        return []
    picked = [first, *(Target.parse(name) for name in chosen)]
    return [fit(target, found[target.provider], size, seconds) for target in picked]  # type: ignore[arg-type]


def target_label(name: str, found: Mapping[str, Any]) -> str:
    """"engine/sora-2 (local preview renderer)": a shoot-out target as a person choosing it should read it."""
    target = Target.parse(name)
    caps = found.get(target.provider)
    return name if not isinstance(caps, Capabilities) else f"{target.provider}/{caps.model_label(target.model)}"


def shootout_prices(shared: Studio, shootout: list[Fitted], pairs: list[tuple[str, JobRequest]]) -> None:
    """Per provider/model: what it is asked for (the fitting said), its rate and the cost of its takes."""
    rows = []
    for fitted in shootout:
        target = fitted.target
        mine = [r for name, r in pairs if name == target.provider and r.model == target.model]
        rate = shared.providers.prices(target.provider).per_second(target.model, fitted.size)
        rows.append({"provider/model": target.name, "sent as": fitted.mapping, "takes": len(mine),
                     "$ per second": rate, "cost": sum(shared.estimate(r, target.provider) for r in mine)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="v_shootout",
                 column_config={"$ per second": st.column_config.NumberColumn(format="$%.2f"),
                                "cost": st.column_config.NumberColumn(format="$%.2f")})


def save_review(job_id: str, field: str, key: str) -> None:
    value = st.session_state.get(key)
    if field == "rating" and value is not None:
        value = int(value) + 1  # st.feedback's stars are 0-based
    studio().review(job_id, **{field: value})


def take_tile(job: Job, position: int, *, blind: bool) -> None:
    with st.container(border=True, key=f"take_{job.id}"):
        st.markdown(f"**Take {chr(65 + position)}**" if blind else f"**{plain(label(job))}**")
        if job.status == "completed" and job.has_video:
            status_badge(job.id)
            st.video(media_url(job), alt=f"Take {position + 1}")
            if not blind:  # Compare names the take and shows its prompt: a blind grid stays on its tiles
                open_large(job)
        elif job.status is JobStatus.WAITING:
            st.info(plain(waiting_line(job, studio().clock())), icon=":material/pending:")
        elif job.is_active:
            st.progress(job.progress / 100, text=f"{job.status.label} {job.progress}%")
        else:
            st.error(plain(job.error.message) if job.error else str(job.status))
        stars_key, notes_key, pick_key = f"stars_{job.id}", f"notes_{job.id}", f"pick_{job.id}"
        st.session_state.setdefault(stars_key, job.rating - 1 if job.rating else None)
        st.feedback("stars", key=stars_key, on_change=save_review, args=(job.id, "rating", stars_key))
        st.session_state.setdefault(notes_key, job.notes)
        st.text_input("Notes", key=notes_key, on_change=save_review, args=(job.id, "notes", notes_key),
                      label_visibility="collapsed", placeholder="Notes")
        st.session_state.setdefault(pick_key, job.picked)
        st.toggle("Pick", key=pick_key, on_change=save_review, args=(job.id, "picked", pick_key))
        if not blind:
            st.caption(plain(job.prompt))


def variant_grid(group_id: str, *, blind: bool) -> None:
    jobs = studio().takes.group(group_id)
    if not jobs:
        st.info("No takes in this group yet.")
        return
    ordered = blind_order(jobs, st.session_state.setdefault("blind_salt", random.random().hex())) if blind else jobs
    portrait = all(job.is_portrait for job in ordered)
    columns = min(len(ordered), 4) if portrait else (2 if len(ordered) <= 4 else 3)
    models = {job.axes.get(AXIS) for job in jobs}
    if not blind and None not in models and 1 < len(models) <= 4:
        columns = len(models)  # a shoot-out: one column per provider/model, one row per prompt
    grid = st.grid(columns, gap="small")
    with grid:
        for position, job in enumerate(ordered):
            take_tile(job, position, blind=blind)
    if len(picks := [job.id for job in jobs if job.picked and job.has_video]) > 1 and not blind:  # → Compare
        st.page_link("pages/compare.py", label="Compare the picks", query_params={"takes": takes_param(picks)})
