"""Batch: a CSV or JSONL of prompts, previewed with the total price and each refused row explained, launched as one."""

import pandas as pd
import streamlit as st

from components.library_picker import library_picker
from components.prompt_form import count_of
from components.runtime import studio
from components.text import plain
from dailies.batch import COLUMNS, launch, plan, read_rows
from dailies.errors import APIError, RequestRefused, ValidationError
from dailies.library import references_said, with_library

shared = studio()
st.title("Batch")
st.caption("One take per row: a prompt, and optionally " + ", ".join(COLUMNS[1:]) + " (tags separated by commas). "
           "CSV needs a header row; JSONL is one JSON object per line. Missing values take the Settings defaults.")
upload = st.file_uploader("Prompts file", type=["csv", "jsonl"], key="batch_file")
# A saved prompt fills rows without one; a style goes on every row; an asset is sent with every row.
picked = library_picker("batch", None, assets=True)
if upload is None:
    st.stop()
try:
    batch = plan(shared, with_library(read_rows(upload.name, upload.getvalue()), picked.prompt, picked.style),
                 source=upload.name, asset=picked.asset)
except ValidationError as exc:
    st.error(plain(exc), icon=":material/block:")
    st.stop()

st.dataframe(
    pd.DataFrame([{"line": row.line, "prompt": row.fields.get("prompt", ""),
                   "model": row.request.model if row.request else "", "size": row.request.size if row.request else "",
                   "seconds": str(row.request.seconds) if row.request else "—",
                   **({"sent with": references_said(row.request.reference_path, row.request.reference_images,
                                                    picked.asset.name) if row.request else ""}
                      if picked.asset else {}),
                   "price $": row.cost,
                   "refused because": "; ".join(row.problems)} for row in batch.rows]),
    hide_index=True, key="batch_preview",
    column_config={"prompt": st.column_config.TextColumn(width="medium"),
                   "seconds": st.column_config.TextColumn(width="small"),
                   "price $": st.column_config.NumberColumn(format="%.2f"),
                   "refused because": st.column_config.TextColumn(width="large")},
)
# A cell shows one line, cut at the table's edge: each refusal is also said in full beneath.
for row in batch.rows:
    if row.problems:
        st.caption(f"Line {row.line} refused: " + plain("; ".join(row.problems)))
refused = len(batch.rows) - len(batch.accepted)
st.metric(f"{count_of(len(batch.accepted), 'take')} to launch", f"${batch.total:.2f}",
          help="Estimated cost of the rows that can go")
if refused:
    st.warning(f"{count_of(refused, 'row')} refused (see why in the table); the others can go.",
               icon=":material/warning:")
for problem in batch.problems:
    st.error(plain(problem), icon=":material/block:")
why_not = None if batch.can_launch else "Fix the problem above first." if batch.problems else "No row can go."
if st.button(f"Launch {count_of(len(batch.accepted), 'take')}", type="primary", key="batch_launch",
             disabled=why_not is not None, help=why_not):
    try:
        result = launch(shared, batch)
    except (RequestRefused, APIError) as exc:
        st.error(plain(exc), icon=":material/block:")
    else:
        for _, error in result.errors:
            st.error(f"Refused: {plain(error)}")
        group = batch.accepted[0].request.group_id if batch.accepted[0].request else None
        st.success(f"Sent {count_of(len(result.jobs), 'take')} as one group.", icon=":material/check:")
        st.page_link("pages/variants.py", label="Review them in Variants", icon=":material/grid_view:",
                     query_params={"group": group} if group else None)
