"""The workbench's pages and the sidebar every page shares."""

import streamlit as st

from components.access import require_access
from components.identity import current_person, require_sign_in
from components.runtime import studio
from components.sidebar import render_sidebar, render_status
from components.store_notice import store_errors_shown
from dailies.web.guests import holds_guest_cookie

st.set_page_config(page_title="Dailies", page_icon="🎬", layout="wide")
if holds_guest_cookie(st.context.cookies):  # a browser that opened a guest link: its review and nothing else,
    from components.guest_view import guest_view  # on every path

    guest_view()
    st.stop()
require_access()  # bound beyond loopback: nothing below runs until this browser has signed in
require_sign_in()  # with [auth] in secrets: nothing below runs until the person signs in and is allowed
studio().person = current_person  # every job records who launched it

pages = st.navigation(
    {
        "Make": [
            st.Page("pages/generate.py", title="Generate", icon=":material/movie_edit:", default=True),
            st.Page("pages/variants.py", title="Variants", icon=":material/grid_view:"),
            st.Page("pages/storyboard.py", title="Storyboard", icon=":material/view_timeline:"),
            st.Page("pages/batch.py", title="Batch", icon=":material/upload_file:"),
            st.Page("pages/library.py", title="Library", icon=":material/bookmarks:"),
        ],
        "Review": [
            st.Page("pages/history.py", title="History", icon=":material/history:"),
            st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
            st.Page("pages/review.py", title="Review rounds", icon=":material/how_to_vote:"),
            st.Page("pages/review_results.py", title="Review results", icon=":material/leaderboard:"),
        ],
        "Set up": [st.Page("pages/settings.py", title="Settings", icon=":material/settings:")],
    }
)
render_sidebar()
with store_errors_shown():  # a database down or a store that cannot open: said in a sentence, on every page
    drawn = studio().store.version  # read before the page reads the jobs: a change meanwhile is pushed again
    pages.run()
    render_status(drawn)
