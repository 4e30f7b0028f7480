"""Storyboard: a scene as ordered shots sharing one style, takes picked per shot, assembled and handed off."""

import streamlit as st

from components.guest_links import guest_links_panel
from components.library_picker import library_picker
from components.prompt_form import count_of
from components.refresh import refresh_every, settle
from components.review_status import status_badge, status_of
from components.runtime import media_url, studio
from components.storyboard_view import (
    HANDOFF_PATHS,
    cut_line,
    handoff_downloads,
    shot_editor,
    shot_takes,
    storyboards,
)
from components.text import plain
from dailies.errors import APIError, RequestRefused
from dailies.library import shot_from_library
from dailies.storyboard import DEFAULT_TAKES, MAX_TAKES, STYLE_LABELS, Style

shared, boards = studio(), storyboards()
st.title("Storyboard")

with st.popover("New board", icon=":material/add:"), st.form("sb_new", clear_on_submit=True, border=False):
    title = st.text_input("Title", placeholder="The kite on the beach")
    takes = st.number_input("Takes per shot", 1, MAX_TAKES, DEFAULT_TAKES)
    if st.form_submit_button("Create", type="primary"):
        try:
            made = boards.create(title, takes_per_shot=int(takes))
        except RequestRefused as exc:
            st.error(plain(exc))
        else:
            made = boards.add_shot(made.id)
            st.session_state["sb_board"] = made.id

if goto := st.session_state.pop("sb_goto", None):  # a board just made by a button below the chooser
    st.session_state["sb_board"] = goto
every = {board.id: f"{board.title} · v{board.version} · {count_of(len(board.shots), 'shot')}" for board in boards.all()}
if not every:
    st.info("No boards yet: make one with New board.")
    st.stop()
if st.session_state.get("sb_board") not in every:
    asked = st.query_params.get("board")
    st.session_state["sb_board"] = asked if asked in every else next(iter(every))
board_id = st.selectbox("Board", list(every), format_func=every.get, key="sb_board")
st.query_params["board"] = board_id
board = boards.get(board_id)
caps = shared.capabilities()

with st.container(horizontal=True, vertical_alignment="bottom"):
    st.caption(f"Version {board.version}" + (f", duplicated from {plain(every.get(board.parent_id, board.parent_id))}"
                                              if board.parent_id else ""))
    if st.button("Duplicate as a new version", icon=":material/file_copy:", key="sb_version"):
        st.session_state["sb_goto"] = boards.duplicate(board.id).id
        st.rerun()
    with st.popover("Delete board", icon=":material/delete:"):
        st.caption("The board goes; its takes and assemblies stay in History.")
        if st.button("Delete this board", type="primary", key="sb_delete_board"):
            boards.delete(board.id)
            st.rerun()



def board_takes() -> list[str]:
    """What a guest link to the board shows: each shot's picked take, else its finished takes."""
    shown: list[str] = []
    for state in boards.states(board):
        done = [job.id for job in state.takes if job.status == "completed" and job.has_video]
        shown += [state.shot.picked] if state.shot.picked in done else done
    return shown


guest_links_panel("board", board.id, board_takes(), key=f"board_{board.id}")

with st.expander("Style: applied to every shot's prompt", expanded=not board.style.text()):
    with st.form(f"sb_style_{board.id}", border=False):
        with st.container(horizontal=True):
            values = {name: st.text_input(label.capitalize(), getattr(board.style, name),
                                         key=f"sb_style_{board.id}_{name}")
                      for name, label in STYLE_LABELS.items()}
        saved = st.form_submit_button("Save style")
    if saved:
        board = boards.update(board.id, style=Style(**values))
    st.caption(plain(board.style.text()) or "No style yet: each shot is sent as written.")
with st.container(horizontal=True, vertical_alignment="bottom"):
    models = list(dict.fromkeys([*caps.models, board.model]))
    model = st.selectbox("Model", models, models.index(board.model), key=f"sb_model_{board.id}",
                         format_func=caps.model_label, width=300)
    sizes = list(dict.fromkeys([*caps.sizes_for(model), board.size]))
    size = st.selectbox("Size", sizes, sizes.index(board.size), key=f"sb_size_{board.id}",
                        help="Every shot of a board has one size, so its takes join without scaling")
    takes = st.number_input("Takes per shot", 1, MAX_TAKES, board.takes_per_shot, key=f"sb_takes_{board.id}")
    fade = st.number_input("Crossfade at each cut (s)", 0.0, 2.0, board.crossfade, 0.25, key=f"sb_fade_{board.id}")
    chain = st.toggle("Launch chained shots when their source is picked", board.chain_launch,
                      key=f"sb_chain_{board.id}", help="A shot that starts from the shot before it is sent as soon "
                      "as that shot has a picked, finished take (within today's budget); off, launch it yourself")
    if (model, size, takes, fade, chain) != (board.model, board.size, board.takes_per_shot, board.crossfade,
                                             board.chain_launch):
        board = boards.update(board.id, model=model, size=size, takes_per_shot=int(takes), crossfade=float(fade),
                              chain_launch=chain)


def assemble_board() -> None:
    try:
        boards.assemble(board_id)
    except (RequestRefused, ValueError) as exc:
        st.session_state["sb_problem"] = str(exc)


def board_running() -> bool:
    return any(state.running for state in boards.states(boards.get(board_id)))


# The shots scroll in a box of their own this tall, under the board's actions: a 3-shot board with its takes is
# ~4,000 px, and Launch, Assemble and the hand-off stay in view beside whichever shot is being worked on.
SHOTS_HEIGHT = 620


@st.fragment(run_every=refresh_every(board_running()))
def board_body(was_live: bool) -> None:
    current = boards.get(board_id)
    if problem := st.session_state.pop("sb_problem", None):
        st.error(plain(problem), icon=":material/block:")
    states, cuts = boards.states(current), boards.cuts(current)
    whole, still = boards.preflight(current), boards.remaining(current)
    ready = [s.shot for s in states if s.ready and not s.takes]
    why_not = ("Every shot has its takes; retake a shot to make more." if not still else
               "The shots left wait for a pick of the shot before them." if not ready else
               None if whole.ok else "Fix the problem below first.")
    missing = boards.assembly_missing(current)
    assembled = boards.assembly(current)

    with st.container(key="sb_actions", horizontal=True, vertical_alignment="center"):
        label = f"Launch {len(ready)} shot{'s' * (len(ready) != 1)} × {current.takes_per_shot} takes" if ready \
            else "Launch"
        if st.button(label, type="primary", key="sb_launch", disabled=why_not is not None, help=why_not,
                     icon=":material/send:"):
            try:
                boards.launch(board_id)
            except (RequestRefused, APIError) as exc:
                st.session_state["sb_problem"] = str(exc)
            st.rerun(scope="app")
        st.button("Assemble" if assembled is None else "Assemble again", key="sb_assemble", on_click=assemble_board,
                  disabled=bool(missing), icon=":material/movie_edit:",
                  help=f"Pick a finished take of {plain(', '.join(missing))} first." if missing
                  else "Join the picked takes, in order, into one MP4")
        if not missing:
            handoff_downloads(current)

    picks = [state.shot.picked for state in states if state.shot.picked]
    if picks:
        signed_off = sum(status_of(take) in ("approved", "final") for take in picks)
        st.caption(f"Review: {signed_off} of {len(states)} shots' picked takes approved or final")
    with st.container(height=SHOTS_HEIGHT, key="sb_shots"):
        for position, state in enumerate(states):
            if position:
                cut_line(cuts[position - 1], current.shots[position - 1].name, state.shot.name)
            with st.container(border=True, key=f"sb_shot_{state.shot.id}"):
                if state.shot.picked:
                    with st.container(horizontal=True, vertical_alignment="center", key=f"sb_review_{state.shot.id}"):
                        st.caption("Picked take's review:")
                        status_badge(state.shot.picked)
                shot_editor(current, state, position, can_extend=caps.extend, seconds=caps.seconds)
                shot_takes(current, state)
        st.button("Add a shot", icon=":material/add:", key="sb_add", on_click=boards.add_shot, args=(board_id,))
        with st.expander("Add a shot from the library", icon=":material/bookmarks:"):
            picked = library_picker("sb", None, assets=True)
            st.button("Add this shot", key="sb_add_library", icon=":material/add:", disabled=picked.prompt is None,
                      help=None if picked.prompt else "Pick a saved prompt first",
                      on_click=lambda: boards.add_shot(board_id, **shot_from_library(picked)))

    st.subheader("Launch")
    with st.container(horizontal=True):
        st.metric("Whole board", f"${whole.cost:.2f}",
                  help=f"{len(current.shots)} shots × {current.takes_per_shot} takes, before anything is sent")
        st.metric("Still to make", f"${boards.preflight(current, still).cost:.2f}" if still else "$0.00")
    for problem in whole.problems:
        st.error(plain(problem), icon=":material/block:")
    if why_not:
        st.caption(why_not)

    st.subheader("Assembly")
    if missing:
        st.caption(f"Pick a finished take of {plain(', '.join(missing))} to assemble.")
    if assembled is not None:
        if not boards.assembly_current(current):
            st.warning("The picks changed since this assembly: assemble again.", icon=":material/update:")
        st.video(media_url(assembled))
        st.caption(f"{assembled.duration:.2f} s · {plain(assembled.params.get('method_reason', ''))} · "
                   f"job {assembled.id}")
        st.link_button("Download the MP4", f"{media_url(assembled)}&download=1", icon=":material/download:")
    if not missing:
        st.caption(HANDOFF_PATHS)
    settle(was_live, board_running())


board_body(board_running())
