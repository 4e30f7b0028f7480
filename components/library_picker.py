"""The library on a making page: pick a saved prompt, add a style block, choose a reference asset.

A prompt replaces the text of the page's prompt field and a style is appended to it (as the camera and
light presets are), both by callbacks that run before the page is drawn, so the field shows what will be
sent and can still be edited. An asset is a choice that stays: the page sends its image as the reference.
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from components.identity import current_person
from components.runtime import studio
from components.text import plain
from dailies.errors import ValidationError
from dailies.jobs import Job
from dailies.library import Item, Library, references_said, rerun_parameters, with_style

RERUN_KEY = "gen_loaded"
"""Where "run again with changes" leaves a take's parameters the Generate form has no widget for."""


def team_library() -> Library:
    shared = studio()
    return Library(shared.store, shared.home)


def _use_prompt(choice_key: str, prompt_key: str, items: dict[str, Item]) -> None:
    item = items.get(st.session_state.get(choice_key) or "")
    if item is not None:
        st.session_state[prompt_key] = item.text
    st.session_state[choice_key] = None  # can be picked again


def _use_style(choice_key: str, prompt_key: str, items: dict[str, Item]) -> None:
    item = items.get(st.session_state.get(choice_key) or "")
    if item is not None:
        st.session_state[prompt_key] = with_style(st.session_state.get(prompt_key, ""), item.text)
    st.session_state[choice_key] = None


class Picked(NamedTuple):
    """What a picker holds after this run: the prompt and style chosen (where the page takes them itself)
    and the reference asset."""

    prompt: Item | None = None
    style: Item | None = None
    asset: Item | None = None


def library_picker(key: str, prompt_key: str | None, *, assets: bool = False) -> Picked:
    """The picker, in one row. With `prompt_key` (the page's prompt field) a saved prompt fills the field and
    a style is appended to it; without one (a page whose prompts come from elsewhere) the choices are returned.
    With `assets`, a reference asset is offered and returned, its images shown."""
    if saved := st.session_state.pop("library_saved", None):
        st.toast(saved, icon=":material/bookmark_added:")
    if not studio().store.ready:  # the first page after a start is drawn, and usable, while a large store loads
        st.caption("The library is offered here once the team's takes have loaded.")
        return Picked()
    library = team_library()
    prompts = {item.id: item for item in library.items("prompt")}
    styles = {item.id: item for item in library.items("style")}
    every = {item.id: item for item in library.items("asset")} if assets else {}
    fills = prompt_key is not None
    # One row, never wrapped: on Generate a second row for "Save prompt" pushed the Generate button below the fold
    # of a 1440x1000 window; the boxes narrow instead.
    with st.container(horizontal=True, vertical_alignment="bottom", wrap=False, key=f"library_{key}"):
        # Options are shown as text (not markdown), so names need no escaping here.
        prompt_id = st.selectbox(
            "Use a saved prompt", list(prompts), index=None, format_func=lambda i: prompts[i].label,
            key=f"{key}_lib_prompt", placeholder="Choose",
            on_change=_use_prompt if fills else None,
            args=(f"{key}_lib_prompt", prompt_key, prompts) if fills else None)
        style_id = st.selectbox(
            "Add a style", list(styles), index=None, format_func=lambda i: styles[i].label,
            key=f"{key}_lib_style", placeholder="Choose",
            on_change=_use_style if fills else None,
            args=(f"{key}_lib_style", prompt_key, styles) if fills else None)
        asset_id = None
        if assets:
            asset_id = st.selectbox("Reference asset", list(every), index=None, format_func=lambda i: every[i].label,
                                    key=f"{key}_lib_asset", placeholder="None",
                                    help="A character, product or place kept in the Library: its image is sent as the "
                                         "reference (the first, where a model takes one)")
        if fills:
            save_prompt_popover(key, prompt_key, library)
    asset = every.get(asset_id or "")
    if asset is not None and asset.images:
        with st.container(horizontal=True, key=f"library_{key}_asset_images"):
            for path in asset.images:
                st.image(path, width=96)
    if fills:
        return Picked(asset=asset)
    return Picked(prompts.get(prompt_id or ""), styles.get(style_id or ""), asset)


def save_prompt_popover(key: str, prompt_key: str, library: Library) -> None:
    """Keep the prompt as written in the field under a name, for the team."""
    with st.popover("Save prompt", icon=":material/bookmark_add:", key=f"{key}_lib_save_pop", width="content"):
        name = st.text_input("Name", key=f"{key}_lib_save_name", placeholder="Lighthouse opener")
        tags = st.text_input("Tags (separate with commas)", key=f"{key}_lib_save_tags")
        if st.button("Save to the library", key=f"{key}_lib_save", type="primary"):
            try:
                item = library.add_prompt(name, st.session_state.get(prompt_key, ""), tags, made_by=current_person())
            except ValidationError as exc:
                st.error(plain(exc), icon=":material/block:")
            else:  # drawn again so the pickers offer it; said once the run is over
                st.session_state["library_saved"] = f"Saved to the library: {plain(item.name)}"
                st.rerun()


def run_again_with_changes(job: Job) -> None:
    """Load a take's exact parameters into Generate's form (a button's callback: before any widget is drawn).

    Its references (opening frame, subject references, the asset they came from) are kept as they were, not
    looked up again in the library, so the same files go even if the asset was deleted since."""
    params = rerun_parameters(job)
    st.session_state["prompt"] = params["prompt"]
    st.session_state["model"] = params["model"]
    st.session_state["seconds"] = params["seconds"]
    st.session_state["size"] = params["size"]
    st.session_state["size_high_res"] = params["high_res"]
    st.session_state["takes"] = 1
    st.session_state["sound"] = params["audio"]
    st.session_state["gen_lib_asset"] = None  # the take's own references, unless an asset is picked again
    st.session_state[RERUN_KEY] = {k: params[k] for k in ("job_id", "provider", "seed", "reference_path",
                                                          "reference_images", "library_asset")}


def rerun_references(loaded: dict) -> str:
    """The references a run again sends, in words, for the line that says what was loaded."""
    said = references_said(loaded.get("reference_path"), loaded.get("reference_images") or (),
                           (loaded.get("library_asset") or {}).get("name"))
    return f", {said}" if said else ""
