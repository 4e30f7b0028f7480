"""History: every take the team made, filterable, with totals, a chart, and actions on selected rows."""

import streamlit as st

from components.history_actions import selected_actions
from components.runtime import media_url, studio, team_models, team_tags
from dailies.history import filter_frame, jobs_frame, per_day
from dailies.jobs import JobKind, JobStatus

shared = studio()
st.title("History")


@st.cache_data(max_entries=4, show_spinner=False)
def history_frame(version: int, count: int):
    """The table for one version of the store; rebuilt only when a job changes."""
    return jobs_frame(shared.store.all(), lambda job: media_url(job, "thumbnail"))


with st.container(horizontal=True, vertical_alignment="bottom"):
    statuses = st.multiselect("Status", [str(s) for s in JobStatus], key="f_status",
                              format_func=lambda s: JobStatus(s).label)
    kinds = st.multiselect("Kind", [str(k) for k in JobKind], key="f_kind")
    models = st.multiselect("Model", team_models(shared.store.version), key="f_model")
    dates = st.date_input("Created between", value=(), key="f_dates")
    tags = st.multiselect("Tags", team_tags(shared.store.version), key="f_tags")
    text = st.text_input("Search prompts", key="f_text", placeholder="lighthouse")


@st.fragment(run_every=3 if shared.active_count() else None)
def table() -> None:
    frame = history_frame(shared.store.version, len(shared.store))
    since, until = (*dates, None, None)[:2] if dates else (None, None)
    shown = filter_frame(frame, statuses=statuses, kinds=kinds, models=models, since=since, until=until, text=text,
                         tags=tags)
    left, middle, right = st.columns(3)
    left.metric("Jobs", f"{len(shown):,}", help=f"{len(frame):,} in all")
    middle.metric("Spend", f"${shown['cost'].sum():,.2f}")
    right.metric("Completed", f"{int((shown['status'] == 'completed').sum()):,}")
    event = st.dataframe(
        shown,
        key="history_table",
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        height=420,
        column_order=("thumbnail", "status", "progress", "kind", "model", "size", "seconds", "cost", "created",
                      "rating", "tags", "prompt", "id"),
        column_config={
            "thumbnail": st.column_config.ImageColumn("Take", width="small"),
            "progress": st.column_config.ProgressColumn("Progress", min_value=0, max_value=100, format="%d%%"),
            "status": st.column_config.TextColumn("Status"),
            "kind": st.column_config.TextColumn("Kind"),
            "model": st.column_config.TextColumn("Model"),
            "size": st.column_config.TextColumn("Size"),
            "seconds": st.column_config.NumberColumn("Seconds", format="%d s"),
            "cost": st.column_config.NumberColumn("Cost", format="$%.2f"),
            "created": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
            "rating": st.column_config.NumberColumn("Rating", format="%d ★"),
            "tags": st.column_config.ListColumn("Tags"),
            "prompt": st.column_config.TextColumn("Prompt", width="large"),
            "id": st.column_config.TextColumn("Job"),
        },
        alt="Every job, newest first",
    )
    chosen = [shown.index[i] for i in event.selection.rows if i < len(shown)]
    st.download_button("Export CSV", data=shown.drop(columns=["thumbnail"]).to_csv(index=False),
                       file_name="dailies-history.csv", mime="text/csv", icon=":material/table:",
                       on_click="ignore", key="export_csv")
    if chosen:
        selected_actions(chosen)
    with st.expander("Jobs and spend per day"):
        daily = per_day(shown)
        st.bar_chart(daily, y="jobs", height=180)
        st.line_chart(daily, y="spend", height=180)


table()
