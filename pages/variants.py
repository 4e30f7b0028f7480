"""Variants: one base prompt, axes of variation, every combination rendered and reviewed side by side."""

import dataclasses

import pandas as pd
import streamlit as st

from components.library_picker import library_picker
from components.prompt_form import count_of, model_choice, size_choice
from components.refresh import refresh_every, settle
from components.runtime import studio
from components.text import plain
from components.variant_grid import (
    axes_from_table,
    axis_chips,
    grid_title,
    review_exports,
    shootout_choice,
    shootout_prices,
    variant_grid,
)
from dailies.batch import FILE_AXIS
from dailies.choices import bounded_choices, hidden_count
from dailies.errors import APIError, RequestRefused
from dailies.jobs import JobRequest
from dailies.library import how_sent, with_asset
from dailies.providers.base import Capabilities
from dailies.review.shootout import AXIS, Target
from dailies.studio import axis_combinations, new_group_id, numbered_takes

shared = studio()
st.title("Variants")



@st.cache_data(max_entries=2, show_spinner=False)
def grids(store_path: str, store_version: int) -> dict[str, str]:
    """Every grid with its label, newest first; worked out once per store version, not on every rerun."""
    prompts_of: dict[str, list[str]] = {}
    source_of: dict[str, str] = {}
    for job in shared.takes.all():  # newest first, so the newest grid is offered first
        if job.group_id:
            prompts_of.setdefault(job.group_id, []).append(job.prompt)
            source_of.setdefault(job.group_id, job.axes.get(FILE_AXIS, ""))
    return {group: f"{grid_title(prompts, source_of[group])} · {count_of(len(prompts), 'take')} · {group}"
            for group, prompts in prompts_of.items()}


groups = grids(str(shared.store.path), shared.takes.version)
launched = st.query_params.get("group")
if just_launched := st.session_state.pop("v_show_review", None):
    st.session_state["v_tab"] = "Review a grid"
    st.session_state["v_group"] = just_launched
if "v_tab" not in st.session_state:
    st.session_state["v_tab"] = "Review a grid" if launched else "New grid"
new_grid, existing = st.tabs(["New grid", "Review a grid"], key="v_tab", on_change="rerun")

with new_grid:
    caps = shared.capabilities()
    picked = library_picker("v", "v_base", assets=True)
    base = st.text_area("Base prompt", key="v_base", placeholder="A paper boat on a pond")
    st.caption("Axes of variation: each value is added to the base prompt. Leave an axis empty to skip it.")
    axes_table = st.data_editor(
        pd.DataFrame({"axis": ["lighting", "angle"], "values": ["golden hour, overcast", "aerial, eye level"]}),
        num_rows="dynamic", key="v_axes", hide_index=True,
        column_config={"axis": st.column_config.TextColumn("Axis", required=True),
                       "values": st.column_config.TextColumn("Values (separate with , or | or a new line)")},
    )
    axes = axes_from_table(axes_table.to_dict("records"))
    axis_chips(axes)
    seeds = st.number_input("Takes per combination (different seeds)", 1, 4, 1, key="v_seeds")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        model = model_choice(caps, key="v_model")
        seconds = st.segmented_control("Seconds", caps.seconds, default=caps.seconds[0], key="v_seconds",
                                       required=True)
    seconds = int(seconds or caps.seconds[0])
    size = size_choice(shared, caps, model, seconds, key="v_size")
    shootout = shootout_choice(shared, Target(shared.active_provider_name, model), size, seconds)
    if picked.asset is not None:
        st.caption(plain(how_sent(picked.asset, caps, model)))

    def asset_caps(provider: str) -> Capabilities:
        """The capabilities an asset is fitted to; a provider that does not answer is left to the preflight."""
        try:
            return shared.capabilities(provider)
        except (APIError, RequestRefused):
            return caps

    group_id = st.session_state.setdefault("v_group_draft", new_group_id())
    pairs = []
    for combo in axis_combinations(axes):  # each combination × its takes × the shoot-out's models, in that order
        worded = [v for a, v in combo.items() if a not in ("take", AXIS)]
        request = JobRequest(prompt=", ".join([base.strip(), *worded]), model=model, size=size, seconds=seconds,
                             group_id=group_id, axes=combo)
        for take in numbered_takes(request, int(seeds)):
            for fitted in shootout or [None]:
                target = fitted.target if fitted else Target(shared.active_provider_name, model)
                sent = take if fitted is None else dataclasses.replace(
                    take, model=target.model, size=fitted.size, seconds=fitted.seconds,
                    axes={**take.axes, AXIS: target.name})
                # Each model is sent the asset as it takes references; one that cannot is named in the problems below.
                if picked.asset is not None:
                    sent = with_asset(sent, picked.asset, asset_caps(target.provider))
                pairs.append((target.provider, sent))
    requests = [request for _, request in pairs]
    check = shared.preflight_each(pairs) if base.strip() else None
    if check:
        st.dataframe(pd.DataFrame([{**r.axes, "prompt": r.prompt} for r in requests]), hide_index=True,
                     key="v_combos")
        if shootout:
            shootout_prices(shared, shootout, pairs)
        st.metric(count_of(len(requests), "take"), f"${check.cost:.2f}", help="Estimated cost of the whole grid")
        for problem in check.problems:
            st.error(plain(problem), icon=":material/block:")
    why_not = "Write a base prompt first." if check is None else None if check.ok else "Fix the problem above first."
    launch = st.button(f"Launch {count_of(len(requests), 'take')}", type="primary", key="v_launch",
                       disabled=why_not is not None, help=why_not)
    if why_not:
        st.caption(why_not)
    if launch:
        try:
            result = shared.launch_each(pairs)
        except (RequestRefused, APIError) as exc:
            st.error(plain(exc), icon=":material/block:")
        else:
            for _, error in result.errors:
                st.error(f"Refused: {plain(error)}")
            del st.session_state["v_group_draft"]
            st.query_params["group"] = group_id
            st.session_state["v_show_review"] = group_id
            st.rerun()

with existing:
    if not groups:
        st.info("No grids yet: launch one from the first tab.")
    else:
        if st.session_state.get("v_group") not in groups:
            st.session_state["v_group"] = launched if launched in groups else next(iter(groups))
        with st.container(horizontal=True, vertical_alignment="bottom"):
            search = st.text_input("Find a grid", key="v_grid_search", placeholder="words of its prompt, or its id")
            # The newest grids and what the search finds, never a list of every grid (12,500 at 100,000 jobs).
            ids = bounded_choices(groups, search, keep=[st.session_state["v_group"], launched])
            chosen = st.selectbox("Grid", ids, format_func=groups.get, key="v_group")
        if hidden := hidden_count(len(groups), len(ids)):
            st.caption(hidden)
        if chosen != launched:
            st.query_params["group"] = chosen
        blind = st.toggle("Blind review: hide labels and shuffle", key="v_blind",
                          value=st.query_params.get("blind") == "1")
        st.query_params["blind"] = "1" if blind else "0"
        st.caption("Share this grid: copy the page's address, it opens the same grid.")
        st.page_link("pages/review.py", label="Start a review round on this grid (many reviewers, blind)",
                     query_params={"group": chosen}, icon=":material/how_to_vote:")

        def grid_running() -> bool:
            return any(j.is_active for j in shared.takes.group(chosen))

        @st.fragment(run_every=refresh_every(grid_running()))
        def grid(was_live: bool) -> None:
            variant_grid(chosen, blind=blind)
            # In the fragment, so a rating, note or pick made here is in the very next export.
            review_exports(chosen, blind=blind)
            settle(was_live, grid_running())

        grid(grid_running())
