"""The Storyboard page's pieces: a shot's editor and takes, the cut between two shots, the hand-off files.

Every change goes through `dailies.storyboard.Storyboards` (the rules live there); a widget here only
says what was changed. Widgets are keyed by shot id, so reordering shots keeps each one's state.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from components.job_card import waiting_line
from components.notes_panel import open_large
from components.runtime import media_url, studio
from components.text import plain
from dailies.errors import ValidationError
from dailies.jobs import JobStatus
from dailies.library import asset_from_record, how_sent
from dailies.storyboard import CONTINUITY, EXTEND, NONE, Board, Cut, ShotState, Storyboards
from dailies.storyboard.handoff import contact_sheet_png, media_zip, otio_json
from dailies.validation import check_reference_image

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def storyboards() -> Storyboards:
    """The boards of the shared studio (one per process, like the studio)."""
    return Storyboards(studio())


def _note(message: str) -> None:
    """A refusal from a callback, shown once at the top of the board on the next run."""
    st.session_state["sb_problem"] = message


def _change(board_id: str, shot_id: str, field: str, key: str) -> None:
    value = st.session_state.get(key)
    if field == "seconds":
        value = int(value or 4)
    try:
        storyboards().update_shot(board_id, shot_id, **{field: value})
    except ValidationError as exc:
        _note(str(exc))


def _act(action: str, board_id: str, shot_id: str, *args: object) -> None:
    try:
        getattr(storyboards(), action)(board_id, shot_id, *args)
    except ValidationError as exc:
        _note(str(exc))


def _asset_off(board_id: str, shot_id: str) -> None:
    storyboards().update_shot(board_id, shot_id, asset=None)


def _pick(board_id: str, shot_id: str, key: str) -> None:
    try:
        storyboards().pick(board_id, shot_id, st.session_state.get(key))
    except ValidationError as exc:
        _note(str(exc))
    except ValueError as exc:  # not the person's doing (a move the code did not declare): said, and logged
        log.exception("picking a take of %s failed", shot_id)
        _note(str(exc))


def _reference(board_id: str, shot_id: str, key: str) -> None:
    """Keep an uploaded reference image beside the board, once it is checked to be an image we can send."""
    upload = st.session_state.get(key)
    if upload is None:
        storyboards().update_shot(board_id, shot_id, reference_path=None)
        return
    folder = storyboards().folder / board_id
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.name).suffix.lower()
    path = folder / f"{shot_id}-reference{suffix if suffix in ('.png', '.jpg', '.jpeg', '.webp') else '.img'}"
    path.write_bytes(upload.getvalue())
    try:
        check_reference_image(path, upload.name)
    except ValidationError as exc:
        path.unlink(missing_ok=True)
        _note(str(exc))
        return
    storyboards().update_shot(board_id, shot_id, reference_path=str(path))


def shot_editor(board: Board, state: ShotState, position: int, *, can_extend: bool, seconds: tuple[int, ...]) -> None:
    """A shot's words, camera, length, continuity and reference image, and the actions on it."""
    shot = state.shot
    bid, sid = board.id, shot.id
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input("Shot", shot.name, key=f"sb_name_{sid}", on_change=_change, args=(bid, sid, "name",
                                                                                         f"sb_name_{sid}"))
        st.button("", icon=":material/arrow_upward:", key=f"sb_up_{sid}", help="Move earlier",
                  disabled=position == 0, on_click=_act, args=("move_shot", bid, sid, -1))
        st.button("", icon=":material/arrow_downward:", key=f"sb_down_{sid}", help="Move later",
                  disabled=position == len(board.shots) - 1, on_click=_act, args=("move_shot", bid, sid, 1))
        st.button("", icon=":material/content_copy:", key=f"sb_dup_{sid}", help="Duplicate the shot",
                  on_click=_act, args=("duplicate_shot", bid, sid))
        st.button("", icon=":material/delete:", key=f"sb_del_{sid}", help="Delete the shot (its takes stay in "
                  "History)", on_click=_act, args=("delete_shot", bid, sid))
    st.text_area("What happens", shot.prompt, key=f"sb_prompt_{sid}", height=68,
                 on_change=_change, args=(bid, sid, "prompt", f"sb_prompt_{sid}"))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input("Camera", shot.camera, key=f"sb_camera_{sid}", placeholder="slow pan left",
                      on_change=_change, args=(bid, sid, "camera", f"sb_camera_{sid}"))
        st.segmented_control("Seconds", seconds, default=shot.seconds if shot.seconds in seconds else seconds[0],
                             key=f"sb_seconds_{sid}", required=True,
                             on_change=_change, args=(bid, sid, "seconds", f"sb_seconds_{sid}"))
        options = [c for c in CONTINUITY if c != EXTEND or can_extend or shot.continuity == EXTEND]
        st.selectbox("Continuity", options, index=options.index(shot.continuity), format_func=CONTINUITY.get,
                     key=f"sb_cont_{sid}", disabled=position == 0 and shot.continuity == NONE,
                     help=None if can_extend else "This provider cannot extend; a shot can start from the "
                     "previous shot's last frame instead.",
                     on_change=_change, args=(bid, sid, "continuity", f"sb_cont_{sid}"))
    if shot.continuity == NONE:
        st.file_uploader("Reference image (optional)", type=["png", "jpg", "jpeg", "webp"], key=f"sb_ref_{sid}",
                         on_change=_reference, args=(bid, sid, f"sb_ref_{sid}"))
        if shot.reference_path:
            st.caption(f"Starts from {plain(Path(shot.reference_path).name)}")
    if (asset := asset_from_record(shot.asset)) is not None:
        with st.container(horizontal=True, vertical_alignment="center", key=f"sb_shot_asset_{sid}"):
            for path in asset.images:
                st.image(path, width=48)
            sent = how_sent(asset, studio().capabilities(), board.model, frame_free=shot.continuity == NONE) \
                if shot.continuity != EXTEND else "an extension is sent no asset."
            st.caption(plain(f"Reference asset {asset.name}: {sent}"))
            st.button("", icon=":material/close:", key=f"sb_drop_asset_{sid}", help="Take the asset off this shot",
                      on_click=_asset_off, args=(bid, sid))
    st.caption(f"Sent as: {plain(Storyboards.prompt_of(board, shot))}")


def shot_takes(board: Board, state: ShotState) -> None:
    """The shot's takes side by side, the pick, and a retake of this shot alone."""
    shot = state.shot
    if state.waiting_for and not state.takes:
        then = " It is launched then." if board.chain_launch else " Launch it then (launching on a pick is off)."
        st.info(f"Waits for {plain(state.waiting_for)}.{then}", icon=":material/hourglass_empty:")
    if shot.chain_refused and not state.takes:
        st.error(plain(shot.chain_refused), icon=":material/block:")
    if state.stale:
        st.warning("Started from an earlier take of the shot before; retake it to follow the new pick.",
                   icon=":material/link_off:")
    if not state.takes:
        return
    columns = st.columns(min(len(state.takes), 4))
    for number, job in enumerate(state.takes):
        with columns[number % len(columns)]:
            if job.has_video and job.status == "completed":
                st.video(media_url(job))
                open_large(job, f"Take {number + 1} in the player")
            elif job.status is JobStatus.WAITING:
                st.info(plain(f"Take {number + 1}: {waiting_line(job, studio().clock())}"), icon=":material/pending:")
            elif job.is_active:
                st.progress(job.progress / 100, text=f"Take {number + 1}: {job.status.label} {job.progress}%")
            else:
                st.error(f"Take {number + 1}: {plain(job.error.message) if job.error else job.status.label}")
    done = [job.id for job in state.takes if job.status == "completed" and job.has_video]
    key = f"sb_pick_{shot.id}_{len(done)}"
    with st.container(horizontal=True, vertical_alignment="bottom"):
        if done:
            labels = {job.id: f"Take {n + 1}" for n, job in enumerate(state.takes)}
            st.segmented_control("Pick", done, default=shot.picked if shot.picked in done else None,
                                 format_func=labels.get, key=key, on_change=_pick, args=(board.id, shot.id, key))
        st.button("Retake", icon=":material/replay:", key=f"sb_retake_{shot.id}", disabled=state.running,
                  help="One more take of this shot; the others stay as they are",
                  on_click=_act, args=("retake", board.id, shot.id))


def cut_line(cut: Cut | None, before: str, after: str) -> None:
    """The continuity figure of one cut, between the two shots it joins."""
    if cut is None:
        st.caption(f"Cut {plain(before)} → {plain(after)}: ΔE once both have a picked take")
        return
    kind = "chained" if cut.chained else "not chained"
    st.caption(f"Cut {plain(before)} → {plain(after)}: **ΔE {cut.delta_e:.1f}** ({kind}; mean colour difference "
               "between the last frame and the next first frame, under about 3 reads as seamless)")


HANDOFF_PATHS = ("Hand-off: both timelines point at the takes by relative paths, media/01-<shot>.mp4 beside the "
                 ".otio file: the .zip holds them there and opens anywhere as it is; with the .otio alone, put "
                 "the takes in a media folder beside it (or relink by those names).")


def handoff_downloads(board: Board) -> None:
    """The timeline, a zip with the media, and a contact sheet: made from the picks as they are now."""
    boards = storyboards()
    clips = boards.handoff(board)
    stem = "".join(c if c.isalnum() else "-" for c in board.title.lower()).strip("-") or "board"
    stem = f"{stem}-v{board.version}"
    with st.container(horizontal=True):
        st.download_button("Timeline (.otio)", otio_json(board.title, clips), f"{stem}.otio", "application/json",
                           key="sb_otio", on_click="ignore", icon=":material/movie:")
        st.download_button("Timeline and media (.zip)", lambda: media_zip(board.title, clips), f"{stem}.zip",
                           "application/zip", key="sb_zip", on_click="ignore", icon=":material/folder_zip:")
        st.download_button("Contact sheet (.png)", lambda: contact_sheet_png(board.title, clips),
                           f"{stem}-contact-sheet.png", "image/png", key="sb_sheet", on_click="ignore",
                           icon=":material/photo_library:")

