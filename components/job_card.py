"""A job as a card: status and progress while it runs, then the video, its files and what to do next."""

from __future__ import annotations

import streamlit as st

from components.library_picker import run_again_with_changes
from components.notes_panel import notes_panel
from components.runtime import media_url, studio, team_tags
from components.text import plain
from dailies.errors import APIError, RequestRefused
from dailies.jobs import Job, JobKind, JobStatus

STATUS_ICON = {
    JobStatus.WAITING: ":material/pending:",
    JobStatus.QUEUED: ":material/schedule:",
    JobStatus.IN_PROGRESS: ":material/autorenew:",
    JobStatus.DOWNLOADING: ":material/download:",
    JobStatus.COMPLETED: ":material/check_circle:",
    JobStatus.FAILED: ":material/error:",
    JobStatus.TIMED_OUT: ":material/hourglass_disabled:",
    JobStatus.NEEDS_LOOK: ":material/help:",
}
FOLLOW_UPS = {
    JobKind.REMIX: "Same shot and motion, a new look: describe the look.",
    JobKind.EXTEND: "What happens next: the clip continues from its last frame.",
    JobKind.EDIT: "How to change it: black and white, mirror, warmer, faster, reverse…",
}


def seconds_label(job: Job) -> str:
    """The take's length as its player will show it: probed from the file (7.92s), else as asked (8s)."""
    return f"{round(job.duration, 2):g}s"


def status_line(job: Job) -> str:
    return f"{STATUS_ICON[job.status]} {job.status.label} · {job.kind} · {plain(job.model)} · " \
           f"{job.size} · {seconds_label(job)} · ${job.cost_estimate:.2f}"


def job_card(job: Job, *, key: str, actions: bool = True, show_prompt: bool = True) -> None:
    """Render one job. Reads only the job record; actions go through the studio."""
    if sent := st.session_state.pop("follow_up_sent", None):  # said once the pop-up has closed
        st.toast(sent, icon=":material/send:")
    with st.container(border=True, key=f"card_{key}"):
        st.caption(status_line(job))
        if show_prompt:
            st.text(job.prompt)
        if job.status is JobStatus.WAITING:
            st.info(plain(waiting_line(job, shared_clock())), icon=":material/pending:")
            if actions and st.button("Cancel", key=f"cancel_{key}", icon=":material/cancel:",
                                     help="Not sent yet, so nothing is paid: cancel it"):
                cancel(job)
        elif job.is_active:
            label = "Downloading files…" if job.status is JobStatus.DOWNLOADING else f"{job.progress}%"
            st.progress(job.progress / 100, text=label)
        elif job.status is JobStatus.NEEDS_LOOK and job.error:
            st.warning(plain(job.error.message), icon=":material/help:")
        elif job.error:
            problem = f"{job.error.code}: {job.error.message}" if job.error.code else job.error.message
            st.error(plain(problem), icon=":material/error:")
        if job.status is JobStatus.COMPLETED and job.has_video:
            st.video(media_url(job), alt=f"Video of job {job.id}", width=360 if job.is_portrait else "stretch")
            if job.params.get("bucket_error"):  # complete here all the same; the tracker tries the bucket again
                st.warning(plain(f"Not in the bucket yet: {job.params['bucket_error']}"), icon=":material/cloud_off:")
            if "thumbnail" in job.files or "spritesheet" in job.files:
                with st.expander("Thumbnail and spritesheet", icon=":material/photo_library:"):
                    for variant in ("thumbnail", "spritesheet"):
                        if variant in job.files:
                            st.image(media_url(job, variant), caption=variant.capitalize())
            if actions:
                job_tags(job, key)
                job_actions(job, key)
                notes_panel(job, key)
        elif actions and job.status is JobStatus.NEEDS_LOOK:
            needs_look_actions(job, key)
        elif actions and job.status in (JobStatus.FAILED, JobStatus.TIMED_OUT):
            retry_or_recheck(job, key)


def waiting_line(job: Job, now: float) -> str:
    """What a waiting take waits for, and when it is tried next ("next try in 12 s")."""
    line = f"Waiting to send: {job.wait_reason or 'the provider is busy'}"
    left = job.next_try_in(now)
    if left is not None:
        line += f"; next try in {left:.0f} s" if left >= 1 else "; next try now"
    return line


def shared_clock() -> float:
    return studio().clock()


def cancel(job: Job) -> None:
    try:
        studio().sending.cancel(job.id)
    except (RequestRefused, APIError) as exc:
        st.error(plain(exc), icon=":material/block:")
        return
    st.rerun()


def job_tags(job: Job, key: str) -> None:
    """Tags the team files takes under (client, shot, round…); any tag used before is offered."""
    shared = studio()
    tags_key = f"tags_{key}"
    st.session_state.setdefault(tags_key, list(job.tags))
    known = sorted(set(team_tags(shared.takes.version)) | set(st.session_state[tags_key]))
    st.multiselect("Tags", known, key=tags_key, accept_new_options=True, placeholder="Add tags",
                   on_change=lambda: shared.review(job.id, tags=st.session_state[tags_key]))


def job_actions(job: Job, key: str) -> None:
    url = media_url(job)
    with st.container(horizontal=True, key=f"actions_{key}"):
        if url is not None:  # served from disk by the app, never held in this process's memory
            # A presigned bucket URL (the local copy was dropped) is signed as it is: no parameter added.
            st.link_button("Download", f"{url}&download=1" if url.startswith("/") else url, icon=":material/download:")
        for kind in (JobKind.REMIX, JobKind.EXTEND, JobKind.EDIT):
            # A dialog rather than a popover: it closes (and forgets its text) once sent, so a second
            # click cannot send the same thing twice.
            if st.button(str(kind).capitalize(), icon=":material/auto_fix_high:", key=f"pop_{kind}_{key}"):
                follow_up_dialog(job, kind, key)
        with st.popover("Make takes", icon=":material/grid_view:", key=f"pop_takes_{key}"):
            takes_form(job, key)
        if job.kind is JobKind.GENERATE:
            run_again_button(job, key)
        if job.source_job_id:  # a remix, extension or edit: beside what it was made from
            st.page_link("pages/compare.py", label="Compare", icon=":material/compare:", query_params={"job": job.id})


def takes_form(job: Job, key: str) -> None:
    """More takes of the same request with new seeds, as a group to review side by side on Variants."""
    shared = studio()
    with st.form(f"form_takes_{key}", border=False):
        count = st.number_input("Takes", min_value=2, max_value=8, value=4, key=f"takes_n_{key}")
        if st.form_submit_button("Send takes", type="primary"):
            try:
                result = shared.launch(shared.takes_of(job.id, int(count)), provider=job.provider)
            except (RequestRefused, APIError) as exc:
                st.error(plain(exc), icon=":material/block:")
                return
            for _, error in result.errors:
                st.error(f"One take was refused: {plain(error)}", icon=":material/block:")
            if result.jobs:
                st.switch_page("pages/variants.py", query_params={"group": result.jobs[0].group_id})


@st.dialog("A new take from this one", width="medium")
def follow_up_dialog(job: Job, kind: JobKind, key: str) -> None:
    follow_up_form(job, kind, key)


def follow_up_form(job: Job, kind: JobKind, key: str) -> None:
    shared = studio()
    caps = shared.capabilities(job.provider) if job.provider in shared.providers.names() else None
    if caps is not None and not caps.supports(kind):
        st.text(caps.unsupported.get(str(kind)) or f"{plain(shared.provider(job.provider).label)} cannot {kind}.")
        return
    with st.form(f"form_{kind}_{key}", border=False):
        prompt = st.text_area("Prompt", value="" if kind is not JobKind.REMIX else job.prompt,
                              help=FOLLOW_UPS[kind], key=f"prompt_{kind}_{key}")
        seconds = None
        if kind is JobKind.EXTEND:
            seconds = st.segmented_control("Add seconds", caps.extend_seconds if caps else (4, 8), default=4,
                                           key=f"secs_{kind}_{key}")
        if st.form_submit_button(f"Send {kind}", type="primary"):
            submit_follow_up(job, kind, prompt, seconds)


def submit_follow_up(job: Job, kind: JobKind, prompt: str, seconds: int | None) -> None:
    shared = studio()
    try:
        request = shared.request_from(job.id, kind, prompt, seconds)
        new = shared.submit(request, job.provider)
    except (RequestRefused, APIError) as exc:
        st.error(plain(exc), icon=":material/block:")
        return
    st.session_state.setdefault("my_jobs", []).insert(0, new.id)
    st.session_state["follow_up_sent"] = f"{kind.capitalize()} sent: {new.id}"
    st.rerun()  # closes the dialog


def run_again_button(job: Job, key: str) -> None:
    """Generate, its form filled with this take's exact parameters (model, size, seconds, seed, reference,
    provider) to change before sending."""
    if st.button("Run again with changes", key=f"rerun_{key}", icon=":material/edit_note:",
                 on_click=run_again_with_changes, args=(job,)):
        st.switch_page("pages/generate.py")


def retry_or_recheck(job: Job, key: str) -> None:
    shared = studio()
    with st.container(horizontal=True, key=f"retry_{key}"):
        if job.status is JobStatus.TIMED_OUT and st.button("Re-check", key=f"recheck_{key}",
                                                          icon=":material/refresh:"):
            shared.takes.recheck(job.id)
            st.rerun()
        if job.kind is JobKind.GENERATE:
            run_again_button(job, key)
        if st.button("Retry as a new job", key=f"retry_btn_{key}", icon=":material/replay:"):
            try:
                new = shared.retry(job.id)
            except (RequestRefused, APIError) as exc:
                st.error(plain(exc))
            else:
                st.session_state.setdefault("my_jobs", []).insert(0, new.id)
                st.rerun()


def needs_look_actions(job: Job, key: str) -> None:
    """A job the provider never confirmed and cannot find: it may exist and be paid for, so a person decides."""
    shared = studio()
    with st.container(horizontal=True, key=f"look_{key}"):
        if st.button("Re-check", key=f"look_recheck_{key}", icon=":material/refresh:"):
            shared.takes.recheck(job.id)
            st.rerun()
        if st.button("Mark failed", key=f"look_fail_{key}", icon=":material/block:"):
            shared.takes.mark_failed(job.id)
            st.rerun()
        with (st.popover("Attach video id", icon=":material/link:", key=f"look_attach_pop_{key}"),
              st.form(f"look_attach_{key}", border=False)):
            remote_id = st.text_input("The provider's video id", placeholder="video_123",
                                      help="From the provider's console or logs, if it made this video.",
                                      key=f"look_attach_id_{key}")
            attach = st.form_submit_button("Attach", type="primary")
        with st.popover("Retry knowingly", icon=":material/replay:", key=f"look_retry_pop_{key}"):
            sure = st.checkbox("It may already be made: I accept paying for it twice", key=f"look_sure_{key}")
            retry = st.button("Send it again", key=f"look_retry_{key}", disabled=not sure, type="primary")
    try:
        if attach:
            shared.takes.attach(job.id, remote_id)
            st.rerun()
        if retry:
            new = shared.retry(job.id, knowingly=True)
            st.session_state.setdefault("my_jobs", []).insert(0, new.id)
            st.rerun()
    except (RequestRefused, APIError) as exc:
        st.error(plain(exc), icon=":material/block:")
