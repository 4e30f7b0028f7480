"""Review rounds: start one on a grid or any takes, share its link, and let each reviewer score every take.

`?round=ID` is a round's link: whoever opens it gives their name (or is signed in) and scores, blind
or labelled as the organiser chose; the results open to them once they submit. Without it the page
starts a round: `?group=ID` (a Variants grid) or `?takes=id1,id2` (History's selection) fill it in.
"""

import streamlit as st

from components.guest_links import guest_links_panel
from components.identity import NAME, current_person, signed_in_as
from components.review_round import ORGANISER_SECRETS, book, choose_pair, score_tile, show_organiser_link, take_label
from components.runtime import studio
from components.text import plain
from dailies.errors import ValidationError
from dailies.review.compare import parse_takes, recent_takes

shared = studio()
rounds = book()
found = rounds.get(st.query_params.get("round") or "")
st.title(plain(found.title or "Review round") if found else "Review rounds")
if problem := st.session_state.pop("review_problem", None):
    st.error(plain(problem), icon=":material/block:")


@st.cache_data(max_entries=2, show_spinner=False)
def grids(version: int) -> dict[str, list[str]]:
    """Every grid's playable takes, in launch order, once per store version."""
    found: dict[str, list[str]] = {}
    for job in sorted(shared.takes.all(), key=lambda j: (j.created_at, j.id)):
        if job.group_id and job.has_video:
            found.setdefault(job.group_id, []).append(job.id)
    return found


def start_round() -> None:
    """The organiser's form: which takes, scored or in pairs, blind or labelled."""
    by_grid = grids(shared.takes.version)
    asked = parse_takes(st.query_params.get("takes"))
    source = st.segmented_control("Takes from", ["A Variants grid", "Chosen takes"], key="rv_source", required=True,
                                  default="Chosen takes" if asked else "A Variants grid")
    if source == "A Variants grid":
        if not by_grid:
            st.info("No grid has finished takes yet: launch one on Variants, or choose takes.")
            return
        ids = list(reversed(by_grid))
        linked = st.query_params.get("group")
        group = st.selectbox("Grid", ids, index=ids.index(linked) if linked in ids else 0, key="rv_group",
                             format_func=lambda g: f"{g} · {len(by_grid[g])} takes")
        takes = by_grid[group]
        st.caption("  \n".join(plain(take_label(take)) for take in takes))
    else:
        options = list(dict.fromkeys([*asked, *recent_takes(shared.takes.all())]))
        takes = st.multiselect("Takes", options, default=[t for t in asked if t in options], key="rv_takes",
                               format_func=take_label, placeholder="Choose two or more takes")
    mode = st.segmented_control("How", ["scores", "pairwise"], key="rv_mode", required=True, default="scores",
                                format_func={"scores": "Score every take (1–5 stars)",
                                             "pairwise": "Pairs: choose one of two"}.get)
    blind = st.toggle("Blind: shuffle per reviewer, hide labels, models and prompts", value=True, key="rv_blind")
    title = st.text_input("Title", key="rv_title", placeholder="Which light for the boat?")
    if st.button("Start the round", type="primary", key="rv_start", icon=":material/how_to_vote:"):
        try:
            started = rounds.start(takes, title=title, blind=blind, mode=mode, created_by=current_person() or "",
                                   signed_in=signed_in_as() or "")
        except ValidationError as exc:
            st.error(plain(exc), icon=":material/block:")
        else:
            st.session_state.setdefault(ORGANISER_SECRETS, {})[started.id] = started.organiser_secret
            st.query_params.clear()
            st.query_params["round"] = started.id
            st.rerun()


def rounds_list() -> None:
    if listed := rounds.rounds()[:20]:
        st.subheader("Rounds")
        for each in listed:
            with st.container(horizontal=True):
                st.page_link("pages/review.py", label=plain(each.title or each.id), query_params={"round": each.id},
                             icon=":material/how_to_vote:")
                st.page_link("pages/review_results.py", label="Results", query_params={"round": each.id})


def ask_name() -> None:
    st.info("Give your name to review (in the sidebar or here): reviewers are told apart by their names. "
            "It is kept in this tab only and is not sign-in.", icon=":material/badge:")
    name = st.text_input("Your name", key="rv_name")
    if name.strip():
        st.session_state[NAME] = " ".join(name.split())[:80]
        st.rerun()


def score_every_take(found, reviewer: str) -> None:
    saved = rounds.scores_of(found.id, reviewer)
    order = rounds.order_for(found.id, reviewer)
    st.caption(f"Reviewing as {plain(reviewer)}. Score every take; nobody's scores show until you submit yours.")
    with st.grid(2 if len(order) <= 4 else 3, gap="small"):
        for position, take in enumerate(order):
            score_tile(found, reviewer, take, position, saved.get(take, {}))
    missing = rounds.missing(found.id, reviewer)
    why = f"{len(missing)} take{'s' if len(missing) != 1 else ''} still without stars." if missing else None
    if st.button("Submit my review", type="primary", key="rv_submit", disabled=bool(missing), help=why,
                 icon=":material/send:"):
        rounds.submit(found.id, reviewer)
        st.rerun()
    if why:
        st.caption(why)


def choose_in_pairs(found, reviewer: str) -> None:
    pairs = rounds.pairs_for(found.id, reviewer)
    left = set(rounds.missing(found.id, reviewer))
    waiting = [pair for pair in pairs if "~".join(sorted(pair)) in left]
    choose_pair(found, reviewer, waiting[0], len(pairs) - len(waiting), len(pairs))


if found is None:
    if st.query_params.get("round"):
        st.warning("There is no such review round here (deleted, or from another workbench).",
                   icon=":material/search_off:")
    start_round()
    rounds_list()
else:
    st.caption(f"{len(found.takes)} takes · {'blind' if found.blind else 'labelled'} · "
               f"{'pairs' if found.mode == 'pairwise' else 'scores'} · started by "
               f"{plain(found.created_by or 'someone')}")
    st.text_input("Share this link with the reviewers", f"{st.context.url}?round={found.id}", disabled=True,
                  key=f"rv_link_{found.id}")  # keyed by round: a widget's kept value would show another round's
    show_organiser_link(found.id)
    held = st.session_state.get(ORGANISER_SECRETS, {}).get(found.id, "")
    if found.organised_by(secret=held, signed_in=signed_in_as() or ""):  # sharing beyond the team: the organiser's
        guest_links_panel("round", found.id, [t for t in found.takes if (j := shared.takes.get(t)) and j.has_video],
                          key=f"round_{found.id}")
    reviewer = current_person()
    if not reviewer:
        ask_name()
    elif rounds.submitted(found.id, reviewer):
        st.success(f"Thank you, {plain(reviewer)}: your review is in.", icon=":material/check_circle:")
        st.page_link("pages/review_results.py", label="See the results", query_params={"round": found.id},
                     icon=":material/leaderboard:")
    elif found.mode == "pairwise":
        choose_in_pairs(found, reviewer)
    else:
        score_every_take(found, reviewer)
