"""Library: the prompts, style blocks and reference assets the team reuses, made and kept here.

Generate, Variants, Batch and Storyboard pick from it (components/library_picker.py); this page adds,
renames, tags, previews and deletes. Every item is one record of the store, shared by the team.
"""

import streamlit as st

from components.identity import current_person
from components.library_picker import team_library
from components.text import plain
from dailies.errors import ValidationError
from dailies.library import Item, Kind
from dailies.validation import REFERENCE_SUFFIXES

library = team_library()
st.title("Library")
st.caption("Saved prompts, style blocks and reference assets (a character, a product, a place), shared by the "
           "team and offered on Generate, Variants, Batch and Storyboard.")

KINDS: dict[str, Kind] = {"Prompts": "prompt", "Styles": "style", "Assets": "asset"}


def add_form(kind: Kind) -> None:
    """A new item of a kind: its name, tags, and its words or images."""
    with st.form(f"lib_add_{kind}", clear_on_submit=True, border=True):
        name = st.text_input("Name", key=f"lib_new_{kind}_name", placeholder={
            "prompt": "Lighthouse opener", "style": "Warm film look", "asset": "Mara (lead)"}[kind])
        tags = st.text_input("Tags (separate with commas)", key=f"lib_new_{kind}_tags", placeholder="client, spring")
        if kind == "asset":
            files = st.file_uploader("Images", type=list(REFERENCE_SUFFIXES), accept_multiple_files=True,
                                     key=f"lib_new_{kind}_files")
        else:
            text = st.text_area("Words" if kind == "style" else "Prompt", key=f"lib_new_{kind}_text", height=90)
        if not st.form_submit_button(f"Save {kind}", type="primary", icon=":material/add:"):
            return
    try:
        if kind == "asset":
            item = library.add_asset(name, [(f.name, f.getvalue()) for f in files or []], tags,
                                     made_by=current_person())
        elif kind == "style":
            item = library.add_style(name, text, tags, made_by=current_person())
        else:
            item = library.add_prompt(name, text, tags, made_by=current_person())
    except ValidationError as exc:
        st.error(plain(exc), icon=":material/block:")
    else:
        st.toast(f"Saved: {plain(item.name)}", icon=":material/bookmark_added:")


def item_row(item: Item) -> None:
    """One item: what it holds, and renaming, tagging and deleting it."""
    with st.container(border=True, key=f"lib_item_{item.id}"):
        st.markdown(f"**{plain(item.name)}**" + (f" · {plain(', '.join(item.tags))}" if item.tags else ""))
        if item.text:
            st.text(item.text)
        if item.images:
            with st.container(horizontal=True):
                for path in item.images:
                    st.image(path, width=120)
        with st.popover("Edit", icon=":material/edit:", key=f"lib_edit_pop_{item.id}"):
            with st.form(f"lib_edit_{item.id}", border=False):
                name = st.text_input("Name", item.name, key=f"lib_name_{item.id}")
                tags = st.text_input("Tags", ", ".join(item.tags), key=f"lib_tags_{item.id}")
                text = st.text_area("Words", item.text, key=f"lib_text_{item.id}") if item.text else None
                if st.form_submit_button("Save changes", type="primary"):
                    try:
                        library.rename(item.kind, item.id, name)
                        library.retag(item.kind, item.id, tags)
                        if text is not None:
                            library.rewrite(item.kind, item.id, text)
                    except ValidationError as exc:
                        st.error(plain(exc), icon=":material/block:")
                    else:
                        st.rerun()
            if st.button("Delete", key=f"lib_delete_{item.id}", icon=":material/delete:"):
                library.delete(item.kind, item.id)
                st.rerun()


tag = st.selectbox("Show the items tagged", library.tags(), index=None, placeholder="Every tag", key="lib_tag")
for tab, (title, kind) in zip(st.tabs(list(KINDS), key="lib_tab"), KINDS.items(), strict=True):
    with tab:
        add_form(kind)
        items = library.items(kind, tag)
        if not items:
            st.caption(f"No {title.lower()} yet.")
        for item in items:
            item_row(item)
