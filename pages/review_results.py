"""Review results: which take won a round, how sure that is, what each axis did, and what people wrote.

A reviewer sees a round's results once they have submitted their own review, and the organiser at
any time (by the organiser link made when the round started, or signed in as whoever started it: a typed
name is not enough); everyone else is asked to review first, so nobody scores with the others' numbers in mind.
"""

import streamlit as st

from components.identity import current_person, signed_in_as
from components.review_round import (
    ORGANISER_SECRETS,
    book,
    effects_table,
    exports,
    ranked_players,
    results_table,
    take_label,
)
from components.runtime import studio
from components.text import plain, plain_table
from dailies.review.rounds import Round

shared = studio()
rounds = book()
st.title("Review results")


def may_see(found: Round) -> bool:
    """The organiser (by the organiser link, kept for this tab once opened, or signed in as the identity that
    started the round) at any time; anyone else once they have submitted their own review."""
    held: dict[str, str] = st.session_state.setdefault(ORGANISER_SECRETS, {})
    if (secret := st.query_params.get("organiser")) and found.organised_by(secret=secret):
        held[found.id] = secret
    if found.organised_by(secret=held.get(found.id, ""), signed_in=signed_in_as() or ""):
        return True
    viewer = current_person() or ""
    return bool(viewer and rounds.submitted(found.id, viewer))


def show_results(found: Round) -> None:
    results = rounds.results(found.id)
    st.caption(f"{len(results.reviewers)} reviewer{'s' if len(results.reviewers) != 1 else ''} submitted"
               + (f": {', '.join(plain(r) for r in results.reviewers)}" if results.reviewers else ""))
    certainty = results.certainty
    sentence = certainty.sentence.replace(certainty.leader or "\0", take_label(certainty.leader or ""))
    if certainty.called:
        st.success(plain(sentence), icon=":material/emoji_events:")
    else:
        st.warning(plain(sentence), icon=":material/balance:")

    st.subheader("Ranking")
    st.table(plain_table(results_table(results)).style.format(precision=2, na_rep="–"), hide_index=True)
    if not results.reviewers:
        st.caption("Unranked (—) until someone submits a review.")
    ranked_players(results)

    if results.effects:
        st.subheader("What each axis did")
        effects = effects_table(results)
        st.caption("Each value's mean over every score its takes got, and its effect: that mean minus the mean of "
                   "all scores." if found.mode == "scores" else
                   "Each value's share of the choices its takes were in that it won, against the share overall.")
        st.bar_chart(effects.assign(value=effects["axis"] + ": " + effects["value"]), x="value", y="effect",
                     color="axis", horizontal=True, height=120 + 44 * len(effects))
        st.table(plain_table(effects).style.format(precision=2), hide_index=True)

    if results.notes:
        st.subheader("Notes")
        st.table(plain_table([{"take": take_label(n["take"]), "reviewer": n["reviewer"], "note": n["note"]}
                              for n in results.notes]), hide_index=True)

    exports(results)
    st.subheader("Pick the winner")
    best = [t.take for t in results.takes if t.rank == 1]
    winner = st.selectbox("Winning take", found.takes, format_func=take_label, key="rr_winner",
                          index=found.takes.index(found.winner or (best[0] if best else found.takes[0])))
    if st.button("Mark it picked", key="rr_pick", icon=":material/check:",
                 help="Records the round's winner and marks the take picked, as on its grid"):
        rounds.mark_winner(found.id, winner)
        st.rerun()
    if found.winner:
        st.caption(f"Picked: {plain(take_label(found.winner))}")


listed = rounds.rounds()
if not listed:
    st.info("No review rounds yet: start one on the Review rounds page.")
    st.page_link("pages/review.py", label="Start a review round", icon=":material/how_to_vote:")
else:
    ids = [r.id for r in listed]
    asked = st.query_params.get("round")
    titles = {r.id: f"{r.title or r.id} · {len(r.takes)} takes · {r.mode}" for r in listed}
    chosen = st.selectbox("Round", ids, index=ids.index(asked) if asked in ids else 0, format_func=titles.get,
                          key="rr_round")
    st.query_params["round"] = chosen
    found = rounds.require(chosen)
    if may_see(found):
        show_results(found)
    else:
        st.info("The results open once you have submitted your own review of this round, so that nobody is "
                "swayed by the others' scores.", icon=":material/visibility_off:")
        st.page_link("pages/review.py", label="Review this round", query_params={"round": found.id},
                     icon=":material/how_to_vote:")
