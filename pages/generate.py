"""Generate: write a prompt, see what it will cost and whether it may go, send it, watch it arrive."""

from pathlib import Path

import streamlit as st

from components.job_card import job_card
from components.library_picker import RERUN_KEY, library_picker, rerun_references
from components.prompt_form import (
    CAMERA_PRESETS,
    LIGHT_PRESETS,
    checked_reference,
    count_of,
    model_choice,
    preset_pills,
    size_choice,
    sound_choice,
)
from components.refresh import refresh_every, settle
from components.runtime import studio
from components.text import plain
from dailies.errors import APIError, RequestRefused
from dailies.jobs import Job, JobRequest, JobStatus
from dailies.library import how_sent, with_asset
from dailies.studio import numbered_takes
from dailies.validation import REFERENCE_SUFFIXES, prompt_length

shared = studio()
st.title("Generate")
# "Run again with changes" on a take: its provider, seed and reference, which the form has no widget for.
loaded = st.session_state.get(RERUN_KEY) or {}
provider_name = loaded.get("provider") if loaded.get("provider") in shared.providers.names() else None

# The same answer the sidebar shows (asked at most every 15 s): an unreachable provider is said to be
# unreachable, in the Settings test's words, rather than looking like a model-list problem.
health = shared.health(provider_name)
try:
    caps = shared.capabilities(provider_name)
except APIError as exc:
    st.error(f"The provider does not answer, so its models are unknown: {plain(exc)}", icon=":material/cloud_off:")
    st.stop()

form, takes_column = st.columns([3, 2], gap="large")
with form:
    if not health.ok:
        st.error(f"Unreachable. {plain(health.message)} Nothing can be sent until it answers; "
                 "Settings → Test connection asks again.", icon=":material/cloud_off:")
    elif not caps.models_listed:
        st.warning("The provider did not list its video models, so the known Sora 2 models are offered; "
                   "a submit tells whether it takes them.", icon=":material/cloud_off:")

    if loaded:
        with st.container(horizontal=True, vertical_alignment="center"):
            gone = "" if provider_name else f" (gone: {shared.active_provider_name} instead)"
            st.caption(plain(f"Run again from {loaded['job_id']}: provider {loaded['provider']}{gone}"
                             + (f", seed {loaded['seed']}" if loaded.get("seed") is not None else "")
                             + rerun_references(loaded)))
            if st.button("Forget", key="gen_forget", icon=":material/close:", help="Back to the usual provider, "
                         "a fresh seed and no reference"):
                st.session_state.pop(RERUN_KEY, None)
                st.rerun()
    picked = library_picker("gen", "prompt", assets=True)
    prompt = st.text_area(
        "Prompt", key="prompt", height=76, placeholder="A lighthouse on a cliff at golden hour, slow pan left",
        help="Colour and light words (golden hour, neon, overcast…) and camera words (pan left, zoom in, orbit…) "
             "steer the picture.",
    )
    st.caption(f"{prompt_length(prompt):,} / {caps.max_prompt_chars:,} characters")
    preset_pills("Camera", CAMERA_PRESETS, "camera_preset")
    preset_pills("Light", LIGHT_PRESETS, "light_preset")

    with st.container(horizontal=True, vertical_alignment="bottom"):
        model = model_choice(caps)
        seconds = st.segmented_control("Seconds", caps.seconds, default=shared.settings.default_seconds
                                       if shared.settings.default_seconds in caps.seconds else caps.seconds[0],
                                       key="seconds", required=True)
        takes = st.number_input("Takes", min_value=1, max_value=8, value=1, key="takes", width=110,
                                help="More than one: the same prompt with different seeds, as a group to compare.")
    size = size_choice(shared, caps, model, int(seconds or caps.default_seconds))
    audio = sound_choice(shared, caps, model, size, int(seconds or caps.default_seconds))

    reference = st.file_uploader("Reference image (optional): the opening frame", type=list(REFERENCE_SUFFIXES),
                                 key="reference")
    reference_path, reference_problem = checked_reference(shared, reference)
    # A run again sends the take's own references (exactly), until an upload or a library asset replaces them.
    kept = {} if picked.asset is not None else {
        "reference_images": list(loaded.get("reference_images") or []),
        "library_asset": dict(loaded.get("library_asset") or {})}
    reference_path = reference_path or (loaded.get("reference_path") if picked.asset is None else None)
    if picked.asset is not None:
        st.caption(plain(how_sent(picked.asset, caps, model)))
    elif reference is None and loaded.get("reference_path"):
        st.image(loaded["reference_path"], width=96, caption=Path(loaded["reference_path"]).name)
    if reference_problem:
        st.error(plain(reference_problem), icon=":material/broken_image:")
    elif reference is not None:
        st.image(reference, width=160, alt="Reference image preview")

    request = with_asset(JobRequest(prompt=prompt, model=model, size=size, seconds=int(seconds or caps.default_seconds),
                                    reference_path=reference_path, seed=loaded.get("seed") if takes == 1 else None,
                                    audio=audio, **kept), picked.asset, caps)
    requests = numbered_takes(request, int(takes))
    group = requests[0].group_id
    # Drawn while a large store still opens; a send checks all.
    check = shared.preflight(requests, provider_name, quick=True)
    # One state: while a problem stands it is shown once, nothing says all is well, and sending is off.
    blocking = list(check.problems) if prompt.strip() else []
    spend = "still being counted" if check.spent_today is None else f"${check.spent_today:.2f}"
    with st.container(horizontal=True, vertical_alignment="center"):
        st.metric("Estimated cost", f"${check.cost:.2f}",
                  help=f"Today's spend {spend}" + (f" of ${check.budget:.2f}" if check.budget else ""))
        if prompt.strip() and not blocking and check.verdict.allowed:
            st.success("Moderation: nothing flagged by the local rules", icon=":material/verified_user:")
        # Not disabled while the prompt is empty: a prompt just typed is committed by this very click.
        send = st.button(f"Generate {count_of(int(takes), 'take')}" if takes > 1 else "Generate", type="primary",
                         icon=":material/send:", key="send",
                         disabled=bool(reference_problem or blocking or not health.ok))
    for problem in blocking:
        st.error(plain(problem), icon=":material/block:")

    if send and not prompt.strip():
        st.error("Write a prompt first: what should the clip show?", icon=":material/edit:")
    elif send and not blocking:  # a click that commits a prompt with a problem only shows the problem
        try:
            result = shared.launch(requests, provider=provider_name) if len(requests) > 1 else None
            jobs = result.jobs if result else [shared.submit(requests[0], provider_name)]
            errors = result.errors if result else []
        except (RequestRefused, APIError) as exc:
            st.error(plain(exc), icon=":material/block:")
        else:
            st.session_state.setdefault("my_jobs", [])[0:0] = [job.id for job in jobs]
            waiting = sum(job.status is JobStatus.WAITING for job in jobs)
            if jobs and not waiting:
                st.toast(f"Sent: {count_of(len(jobs), 'take')} rendering, shown on the right",
                         icon=":material/send:")
            elif jobs:  # kept, in line: sent when the provider allows (each card says why and when)
                st.toast(f"{count_of(len(jobs), 'take')} accepted; {waiting} wait for the provider's limit and go "
                         "when it allows", icon=":material/pending:")
            if group and jobs:
                st.session_state["my_group"] = group
            for _, error in errors:
                st.error(f"One take was refused: {plain(error)}", icon=":material/block:")


def my_recent_jobs() -> list[Job]:
    """This session's last six jobs, newest first, as the store has them now."""
    ids = st.session_state.get("my_jobs", [])[:6]
    return [job for job in (shared.takes.get(i) for i in ids) if job is not None]


mine_live = any(job.is_active for job in my_recent_jobs())


@st.fragment(run_every=refresh_every(mine_live))
def my_jobs(was_live: bool) -> None:
    """This session's jobs, refreshed from the store while one of them runs."""
    jobs = my_recent_jobs()
    if not jobs:
        st.caption("Your takes appear here as they render.")
        return
    for job in jobs:
        job_card(job, key=job.id)
    settle(was_live, any(job.is_active for job in jobs))


with takes_column:
    st.subheader("Your takes")
    latest_group = st.session_state.get("my_group")
    if latest_group and st.button("Review these takes", icon=":material/grid_view:", key="review_group",
                                  help="Open the takes of the last run side by side in Variants"):
        st.session_state["v_show_review"] = latest_group
        st.switch_page("pages/variants.py", query_params={"group": latest_group})
    my_jobs(mine_live)
