"""History: every take the team made, filterable, with totals, a chart, and actions on selected rows."""

import streamlit as st

from components.history_actions import selected_actions
from components.refresh import refresh_every, settle, store_busy
from components.review_status import LABELS, review_statuses
from components.runtime import NO_PICTURE, media_url, studio, team_models, team_tags
from dailies.history import (
    NOBODY,
    PAGE_SIZE,
    LiveFrame,
    filter_frame,
    history_csv,
    page_count,
    page_of,
    per_day,
    per_person,
    stars,
)
from dailies.jobs import JobKind, JobStatus
from dailies.review import INITIAL

shared = studio()
st.title("History")
RATINGS = (5, 4, 3, 2, 1, None)
PICKED = {"Picked or not": None, "Picked": True, "Not picked": False}


@st.cache_resource(show_spinner=False)
def history_frames(store_path: str) -> LiveFrame:
    """The table, shared by every tab and kept up to date row by row as jobs change (frames handed out are never
    changed). Thumbnails are added per page shown: a URL for each of 100,000 takes was a fifth of the build."""
    return LiveFrame(shared.store)


frame = history_frames(str(shared.store.path)).current()
with st.container(horizontal=True, vertical_alignment="bottom"):
    providers = st.multiselect("Provider", sorted({*frame["provider"].unique(), *shared.providers.names()}),
                               key="f_provider")
    statuses = st.multiselect("Status", [str(s) for s in JobStatus], key="f_status",
                              format_func=lambda s: JobStatus(s).label)
    reviewed = st.multiselect("Review status", list(LABELS), key="f_review", format_func=LABELS.get,
                              help="Where each take is in review: decisions made on its notes panel, in a review "
                                   "link, or through the API")
    kinds = st.multiselect("Kind", [str(k) for k in JobKind], key="f_kind")
    models = st.multiselect("Model", team_models(shared.takes.version), key="f_model")
    dates = st.date_input("Created between", value=(), key="f_dates")
    tags = st.multiselect("Tags", team_tags(shared.takes.version), key="f_tags")
    ratings = st.multiselect("Rating", RATINGS, format_func=lambda r: stars(r) or "Not rated", key="f_rating")
    picked = st.selectbox("Picked", PICKED, key="f_picked")
    text = st.text_input("Search prompts", key="f_text", placeholder="lighthouse")
    makers = sorted(frame["made_by"].unique())
    people = st.multiselect("Made by", makers, format_func=lambda p: p or NOBODY, key="f_people")

live = store_busy()


@st.fragment(run_every=refresh_every(live, 3))
def table(was_live: bool) -> None:
    frame = history_frames(str(shared.store.path)).current()
    since, until = (*dates, None, None)[:2] if dates else (None, None)
    shown = filter_frame(frame, statuses=statuses, kinds=kinds, models=models, since=since, until=until, text=text,
                         tags=tags, ratings=ratings, picked=PICKED[picked], people=people, providers=providers)
    review = review_statuses()  # one read of the decisions per store version, for every row
    if reviewed:
        shown = shown[shown.index.map(lambda take: review.get(take, INITIAL)).isin(reviewed)]
    left, middle, right = st.columns(3)
    left.metric("Jobs", f"{len(shown):,}", help=f"{len(frame):,} in all")
    middle.metric("Spend", f"${shown['cost'].sum():,.2f}")
    right.metric("Completed", f"{int((shown['status'] == 'completed').sum()):,}")
    pages = page_count(len(shown))
    if st.session_state.get("h_page", 1) > pages:  # the filters left fewer pages than the one shown
        st.session_state["h_page"] = 1
    page = st.session_state.get("h_page", 1)
    rows = page_of(shown, page)
    rows["thumbnail"] = [(media_url(job, "thumbnail") if (job := shared.takes.get(i)) else None) or NO_PICTURE
                         for i in rows.index]
    rows.insert(list(rows.columns).index("picked") + 1 if "picked" in rows.columns else len(rows.columns), "review",
                [LABELS[review.get(i, INITIAL)] for i in rows.index])
    event = st.dataframe(
        rows,
        key=f"history_table_{page}",
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        height=420,
        row_height=56,
        column_config={
            "thumbnail": st.column_config.ImageColumn("Take", width="small"),
            "prompt": st.column_config.TextColumn("Prompt", width=460),
            "rating": st.column_config.TextColumn("Rating"),
            "picked": st.column_config.CheckboxColumn("Picked"),
            "progress": st.column_config.ProgressColumn("Progress", min_value=0, max_value=100, format="%d%%"),
            "status": st.column_config.TextColumn("Status"),
            "review": st.column_config.TextColumn("Review", help="The take's review status"),
            "why": st.column_config.TextColumn("Why", width=260,
                                               help="What a take waits for before it is sent, or why it failed"),
            "kind": st.column_config.TextColumn("Kind"),
            "provider": st.column_config.TextColumn("Provider"),
            "model": st.column_config.TextColumn("Model"),
            "size": st.column_config.TextColumn("Size"),
            "seconds": st.column_config.NumberColumn("Seconds", format="%d s"),
            "cost": st.column_config.NumberColumn("Cost", format="$%.2f"),
            "created": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
            "tags": st.column_config.ListColumn("Tags"),
            "made_by": st.column_config.TextColumn("Made by"),
            "id": st.column_config.TextColumn("Job"),
        },
        alt="Every job, newest first",
    )
    chosen = [rows.index[i] for i in event.selection.rows if i < len(rows)]
    with st.container(horizontal=True, vertical_alignment="center"):
        first = (page - 1) * PAGE_SIZE
        st.caption(f"Rows {first + 1 if len(shown) else 0:,}–{first + len(rows):,} of {len(shown):,}")
        st.number_input("Page", min_value=1, max_value=pages, key="h_page", width=140, disabled=pages == 1)
        # Made only when clicked: a CSV of 100,000 rows on every rerun would cost more than the page.
        st.download_button("Export CSV", data=lambda: history_csv(shown),
                           file_name="dailies-history.csv", mime="text/csv", icon=":material/table:",
                           on_click="ignore", key="export_csv")
    if chosen:
        selected_actions(chosen)
    with st.expander("Jobs and spend per day"):
        daily = per_day(shown)
        st.bar_chart(daily, y="jobs", height=180)
        st.line_chart(daily, y="spend", height=180)
    with st.expander("Jobs and spend per person"):
        st.dataframe(per_person(shown), key="per_person", column_config={
            "spend": st.column_config.NumberColumn("Spend", format="$%.2f"), "jobs": "Jobs"})
    settle(was_live, store_busy())


table(live)
