"""Compare: a job's lineage (its source and every remix, extension and edit), played side by side in sync."""

import streamlit as st

from components.job_card import status_line
from components.runtime import media_url, studio
from components.synced_player import Clip, prompt_diff_html, synced_player
from components.text import plain
from dailies.jobs import Job

shared = studio()
st.title("Compare")


def describe(job: Job) -> str:
    return f"{job.kind} · {job.id} · {job.prompt[:60]}{'…' if len(job.prompt) > 60 else ''}"


def with_family(jobs: list[Job]) -> list[Job]:
    """Jobs that have a source or a follow-up come first: they are what there is to compare."""
    related = {job.source_job_id for job in jobs if job.source_job_id} | {j.id for j in jobs if j.source_job_id}
    return sorted(jobs, key=lambda job: (job.id not in related, -job.created_at))


jobs = with_family(shared.store.all())
if not jobs:
    st.info("No jobs yet: make one on Generate, then remix, extend or edit it.")
    st.stop()

ids = [job.id for job in jobs]
wanted = st.query_params.get("job")
if wanted and wanted not in ids:
    st.warning(f"There is no job {plain(repr(wanted))} here; pick one below.", icon=":material/search_off:")
chosen_id = st.selectbox(
    "Job", ids, index=ids.index(wanted) if wanted in ids else 0, key="compare_job",
    format_func=lambda i: describe(shared.store.require(i)),
)
st.query_params["job"] = chosen_id

lineage = shared.store.lineage(chosen_id)
by_id = {job.id: job for job in lineage}
depth: dict[str, int] = {}
for job in lineage:
    depth[job.id] = depth.get(job.source_job_id, -1) + 1 if job.source_job_id in by_id else 0

st.subheader("Lineage")
st.dataframe(
    [{"": "└ " * depth[j.id] + str(j.kind), "job": j.id, "status": str(j.status), "seconds": j.seconds,
      "prompt": j.prompt} for j in lineage],
    hide_index=True, key="lineage_table", column_config={"prompt": st.column_config.TextColumn(width="large")},
)

playable = [job for job in lineage if job.has_video]
if len(playable) < 2:
    st.info("Once this job has a finished remix, extension or edit (or a source), they play here side by side.",
            icon=":material/compare:")
    for job in lineage:
        st.caption(status_line(job))
    st.stop()

default = [playable[0].id] + ([chosen_id] if chosen_id != playable[0].id and chosen_id in by_id
                              and by_id[chosen_id].has_video else [playable[-1].id])
picked = st.multiselect("Play side by side", [job.id for job in playable], default=default, key="compare_pick",
                        format_func=lambda i: describe(by_id[i]), max_selections=4)
clips = [by_id[i] for i in picked]
if len(clips) < 2:
    st.warning("Pick at least two takes to compare.")
    st.stop()

synced_player([Clip(label=f"{job.kind} · {job.id}", url=media_url(job) or "", caption=f"{job.seconds}s · {job.size}")
               for job in clips], key="compare")

st.subheader("What changed in the prompt")
for job in clips[1:]:
    st.caption(f"{clips[0].id} → {job.id} ({job.kind})")
    st.html(prompt_diff_html(clips[0].prompt, job.prompt))
