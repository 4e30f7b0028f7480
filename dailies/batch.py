"""Batches from a file: a CSV or JSONL of prompts, checked row by row, priced, and launched as one group.

Each row is one take: `prompt` (required), and optionally `model`, `size`, `seconds` and `tags`
(comma-separated in CSV, a list or a string in JSONL); missing values take the team's defaults. Every
row is checked as the Generate page would check it (validation, moderation) and priced; a refused row
says why, and is not launched. The budget is checked on the accepted rows together, as `Studio.launch`
does, so a batch that would overspend launches nothing.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from dailies.errors import ValidationError
from dailies.jobs import JobRequest
from dailies.library import Item, with_asset
from dailies.studio import LaunchResult, Studio, new_group_id

COLUMNS = ("prompt", "model", "size", "seconds", "tags")
MAX_ROWS = 500
FILE_AXIS = "batch"
"""The axis naming the file a batch take came from, so its grid is named after the file."""
ROW_AXIS = "row"
TAKE_LABEL_CHARS = 40
"""How much of a row's prompt names its take in the grid (the tile shows the whole prompt beneath)."""


def shortened(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in "…" when it was longer (on a word where one is near)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if (space := cut.rfind(" ")) > limit // 2:
        cut = cut[:space]
    return f"{cut.rstrip(' ,;')}…"


def take_axes(source: str, line: int, prompt: str) -> dict[str, str]:
    """A batch take's name in its grid: the file it came from, and its line with the start of its prompt."""
    return {FILE_AXIS: source, ROW_AXIS: f"{line} · {shortened(prompt, TAKE_LABEL_CHARS)}"} if source else \
        {ROW_AXIS: f"{line} · {shortened(prompt, TAKE_LABEL_CHARS)}"}


@dataclass
class BatchRow:
    line: int
    fields: dict[str, Any]
    request: JobRequest | None = None
    problems: list[str] = field(default_factory=list)
    cost: float = 0.0

    @property
    def ok(self) -> bool:
        return self.request is not None and not self.problems


@dataclass
class BatchPlan:
    rows: list[BatchRow]
    total: float
    """The price of the accepted rows."""
    problems: tuple[str, ...] = ()
    """What stops the whole batch (the budget), beside each row's own."""

    @property
    def accepted(self) -> list[BatchRow]:
        return [row for row in self.rows if row.ok]

    @property
    def can_launch(self) -> bool:
        return bool(self.accepted) and not self.problems


def read_rows(name: str, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(line number, fields) per row of a `.csv` (with a header row) or `.jsonl` file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{name!r} is not UTF-8 text.") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    if name.lower().endswith((".jsonl", ".ndjson")):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                raise ValidationError(f"Line {number} of {name!r} is not JSON: {exc}.") from None
            if not isinstance(value, dict):
                raise ValidationError(f"Line {number} of {name!r} is not a JSON object.")
            rows.append((number, value))
    elif name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "prompt" not in [f.strip().lower() for f in reader.fieldnames]:
            raise ValidationError(f"{name!r} needs a header row with a 'prompt' column (and optionally "
                                  "model, size, seconds, tags).")
        for row in reader:
            rows.append((reader.line_num, {str(k).strip().lower(): v for k, v in row.items() if k}))
    else:
        raise ValidationError(f"{name!r} is neither .csv nor .jsonl.")
    if not rows:
        raise ValidationError(f"{name!r} has no rows.")
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"{name!r} has {len(rows)} rows; a batch takes at most {MAX_ROWS}.")
    return rows


def plan(studio: Studio, rows: list[tuple[int, dict[str, Any]]], provider: str | None = None,
         source: str = "", asset: Item | None = None) -> BatchPlan:
    """Check and price every row, then the budget on the accepted ones together. Nothing is sent.

    `source` (the file's name) names the grid the takes make, with each row's line and prompt. `asset`: a
    library asset sent with every row, the way each row's model takes it (a row whose model cannot is refused,
    saying why)."""
    name = provider or studio.active_provider_name
    caps = studio.capabilities(name)
    settings = studio.settings
    group = new_group_id()
    checked: list[BatchRow] = []
    for line, fields in rows:
        row = BatchRow(line, fields)
        extra = sorted(set(fields) - set(COLUMNS))
        try:
            if extra:
                raise ValidationError(f"unknown column(s) {', '.join(extra)}")
            prompt = str(fields.get("prompt") or "").strip()
            if not prompt:
                raise ValidationError("no prompt")
            seconds_text = str(fields.get("seconds") or "").strip()
            if seconds_text and not seconds_text.isdigit():
                raise ValidationError(f"seconds {seconds_text!r} is not a whole number")
            row.request = JobRequest(
                prompt=prompt,
                model=str(fields.get("model") or "").strip() or caps.default_model,
                size=str(fields.get("size") or "").strip() or settings.default_size,
                seconds=int(seconds_text) if seconds_text else settings.default_seconds,
                tags=_tags(fields.get("tags")),
                group_id=group,
                axes=take_axes(source, line, prompt),
            )
            row.request = with_asset(row.request, asset, caps)
        except ValidationError as exc:
            row.problems.append(str(exc))
        if row.request is not None:
            preflight = studio.preflight(row.request, name)
            row.cost = preflight.cost
            row.problems.extend(p for p in preflight.problems if not p.startswith("This costs $"))
        checked.append(row)
    accepted = [row.request for row in checked if row.ok and row.request is not None]
    total = round(sum(row.cost for row in checked if row.ok), 4)
    problems: tuple[str, ...] = ()
    if accepted:
        together = studio.preflight(accepted, name)
        problems = tuple(p for p in together.problems if p.startswith("This costs $"))
    return BatchPlan(checked, total, problems)


def launch(studio: Studio, batch: BatchPlan, provider: str | None = None) -> LaunchResult:
    """Send the accepted rows as one group (shown as a grid in Variants)."""
    if not batch.can_launch:
        raise ValidationError(" ".join(batch.problems) or "No row can be launched.")
    return studio.launch([row.request for row in batch.accepted if row.request is not None], provider=provider)


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    return [t.strip() for t in str(value or "").split(",") if t.strip()]
