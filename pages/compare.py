"""Compare and review: one take, or two to four played in sync (side by side, wipe, difference, overlay), notes at
exact frames with drawings, the prompts' differences and a take's lineage.

The address holds the selection (`?takes=id1,id2,id3`), so a comparison can be shared; `?job=id`
opens that job's lineage. History's selection and a Variants grid's picks link here the same way.
"""

import streamlit as st

from components.identity import current_person, signed_in_as
from components.job_card import seconds_label, status_line
from components.notes_panel import notes_panel
from components.prompt_diff import prompt_diff_html
from components.review_player import MODES, review_player, saved_toast
from components.runtime import media_url, studio
from dailies.choices import RECENT
from dailies.errors import RequestRefused
from dailies.jobs import Job
from dailies.review import Author, ReviewDesk
from dailies.review.compare import (
    MAX_TAKES,
    latest_family,
    lineage_takes,
    parse_takes,
    recent_takes,
    resolve,
    shown_id,
    takes_param,
)

shared = studio()
st.title("Compare")


@st.cache_data(max_entries=2, show_spinner=False)
def recent(version: int) -> list[str]:
    """The newest playable takes, worked out once per version of the store."""
    return recent_takes(shared.takes.all())


@st.cache_data(max_entries=8, show_spinner=False)
def searched(version: int, search: str) -> list[str]:
    """The newest playable takes a search finds (prompt, notes, tags, id), a bounded few."""
    if not search.strip():
        return []
    return [job.id for job in shared.takes.query(text=search) if job.has_video][:RECENT]


def describe(job_id: str) -> str:
    job = shared.takes.require(job_id)
    prompt = job.prompt[:50] + ("…" if len(job.prompt) > 50 else "")
    return " · ".join([str(job.kind), *job.axes.values(), job.id, prompt])


def play_lineage(job_id: str) -> None:
    st.session_state["compare_pick"] = lineage_takes(shared.store, job_id)


def with_previous(previous: str, take: str) -> None:
    """The previous version on the left, this one on the right, notes on this one."""
    st.session_state["compare_pick"] = [previous, take]
    st.session_state["compare_target"] = take


def reviewer() -> Author | None:
    """Who writes the notes: the signed-in person, or the name typed here (anyone can type a name)."""
    person = current_person()
    if person and signed_in_as():
        return Author(person, signed_in=True)
    name = person or st.text_input("Your name", key="review_name",
                                   help="Anyone can type a name: it says who wrote the note, nothing more")
    try:
        return Author.typed(name) if name.strip() else None
    except RequestRefused:
        return None


if not len(shared.takes):
    st.info("No jobs yet: make one on Generate, then remix, extend or edit it, or make a grid on Variants.")
    st.stop()

# The address decides when it changed (a shared link, History, a grid); otherwise the picks stand.
asked = parse_takes(st.query_params.get("takes"))
job_link = st.query_params.get("job")
if not asked and job_link:
    if shared.takes.get(job_link) is None:
        st.warning(f"There is no job `{shown_id(job_link)}` here; pick takes below.", icon=":material/search_off:")
    else:
        asked = lineage_takes(shared.store, job_link) or [job_link]
link = takes_param(asked)
if "compare_pick" not in st.session_state or (link and link != st.session_state.get("compare_link")):
    found = resolve(shared.store, asked or st.session_state.get("compare_last") or latest_family(shared.store))
    for job_id in found.unknown:
        st.warning(f"There is no take `{shown_id(job_id)}` here (deleted, or from another workbench).",
                   icon=":material/search_off:")
    for job in found.not_ready:
        st.info(f"{job.id} has no video yet ({job.status.label}); it plays here once it has one.",
                icon=":material/hourglass_top:")
    st.session_state["compare_pick"] = [job.id for job in found.playable]
chosen = [i for i in st.session_state["compare_pick"] if shared.takes.get(i) is not None]  # gone: deleted meanwhile
st.session_state["compare_pick"] = chosen
# The newest takes and what the search finds, never a list of every take ever made.
with st.container(horizontal=True, vertical_alignment="bottom"):
    search = st.text_input("Find older takes", key="compare_search",
                           placeholder="words of a prompt, a note, a tag or an id")
    options = list(dict.fromkeys([*chosen, *searched(shared.takes.version, search), *recent(shared.takes.version)]))
    picked = st.multiselect("Takes to review or compare", options, key="compare_pick", format_func=describe,
                            max_selections=MAX_TAKES, placeholder="Pick a take, or two to four")
st.query_params.pop("job", None)
st.session_state["compare_last"], st.session_state["compare_link"] = picked, takes_param(picked)
if picked:
    st.query_params["takes"] = takes_param(picked)
else:
    st.query_params.pop("takes", None)

clips: list[Job] = [shared.takes.require(i) for i in picked]
desk = ReviewDesk(shared.store, shared.media)  # no state of its own: cheap per run
if not clips:
    st.info("Pick a take to review, or two to four to compare: here, from History's selection, from a Variants "
            "grid's picks, or from a take's lineage below.", icon=":material/compare:")
else:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        if st.session_state.get("compare_target") not in picked:
            st.session_state["compare_target"] = picked[0]
        target_id = st.selectbox("Notes on", picked, key="compare_target", format_func=describe) \
            if len(picked) > 1 else picked[0]
        mode = st.segmented_control("Show", list(MODES), format_func=MODES.get, default="side",
                                    key="compare_mode") if len(picked) > 1 else "side"
        author = reviewer()
    slot = st.container()  # the player first on the page, its offsets and key help under it
    offsets = [0] * len(clips)
    if len(clips) > 1:
        with st.container(horizontal=True):
            for i, job in enumerate(clips):
                offsets[i] = int(st.number_input(f"Offset of {job.id} (frames)", value=0, min_value=-10_000,
                                                 max_value=10_000, step=1, key=f"compare_offset_{job.id}",
                                                 help="Show this take this many frames later (or earlier, "
                                                      "negative): for takes that start differently"))
    st.caption("Space or K pause, L play, J back; ← → or , . step a frame; i / o set an in/out range; "
               "pick a tool to draw on the paused frame; click a note to go to its frame.")
    saved_toast("compare_player")
    try:
        with slot:
            review_player(clips, key="compare_player", desk=desk, url_of=media_url, author=author,
                          target=picked.index(target_id), mode=mode or "side", offsets=offsets)
    except (RequestRefused, ValueError) as exc:
        st.warning(f"This take cannot be reviewed here: {exc}", icon=":material/videocam_off:")
    target = shared.takes.require(target_id)
    previous = desk.previous(target.id)
    if previous is not None and previous.id not in picked:
        st.button(f"Compare with the previous version ({previous.id})", icon=":material/difference:",
                  key="compare_previous", on_click=with_previous, args=(previous.id, target.id))
    notes_panel(target, "compare", expanded=True)
    if len(clips) > 1:
        st.subheader("What changed in the prompt")
        for job in clips[1:]:
            st.caption(f"{clips[0].id} → {job.id} ({job.kind})")
            st.html(prompt_diff_html(clips[0].prompt, job.prompt))

if clips:
    st.subheader("Lineage")
    of = st.selectbox("Lineage of", [job.id for job in clips], format_func=describe, key="compare_lineage_of")
    lineage = shared.takes.lineage(of)
    by_id = {job.id: job for job in lineage}
    depth: dict[str, int] = {}
    for job in lineage:
        depth[job.id] = depth.get(job.source_job_id, -1) + 1 if job.source_job_id in by_id else 0
    st.dataframe(
        [{"": "└ " * depth[j.id] + str(j.kind), "job": j.id, "status": str(j.status), "seconds": seconds_label(j),
          "prompt": j.prompt} for j in lineage],
        hide_index=True, key="lineage_table", column_config={"prompt": st.column_config.TextColumn(width="large")},
    )
    if len(lineage_takes(shared.store, of)) < 2:
        st.caption("Nothing else to play in this lineage yet: remix, extend or edit the take.")
        for job in lineage:
            st.caption(status_line(job))
    else:
        st.button("Compare the whole lineage", icon=":material/account_tree:", key="compare_play_lineage",
                  on_click=play_lineage, args=(of,))
