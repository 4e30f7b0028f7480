"""Drawings on a frame: vector shapes in normalised coordinates, checked and bounded before they are kept.

A drawing is a list of shapes, each `{"kind", "colour", ...}`:
- `line`: `points`, 2 to `MAX_POINTS` `[x, y]` pairs (a free-hand stroke);
- `arrow`: `points`, exactly 2 pairs, tail then head;
- `rect`, `ellipse`: `box`, `[x0, y0, x1, y1]` (any two opposite corners; stored smallest first);
- `text`: `points`, 1 pair (where the text starts) and `text` (plain, at most `MAX_SHAPE_TEXT` characters).
Coordinates are fractions of the frame's width and height (0..1, from the top left), so a drawing made
on a small player lands on the same spot of the full-size frame and of an exported still. Colours come
from `PALETTE` by name. Anything else is refused with a sentence, and nothing is stored.
"""

from __future__ import annotations

import math
from typing import Any

from dailies.errors import ValidationError
from dailies.review.text import plain_text

__all__ = ["KINDS", "MAX_POINTS", "MAX_SHAPES", "PALETTE", "check_drawing"]

PALETTE: dict[str, str] = {
    "red": "#ff3b30", "orange": "#ff9500", "yellow": "#ffcc00", "green": "#34c759",
    "blue": "#0a84ff", "white": "#ffffff", "black": "#000000",
}
"""The colours a reviewer draws with, by name (the name is stored; the hex is how it is drawn)."""
KINDS = ("line", "arrow", "rect", "ellipse", "text")
MAX_SHAPES = 64
MAX_POINTS = 2000
"""Points in one free-hand line (a long stroke sampled at 60 Hz is a few hundred)."""
MAX_SHAPE_TEXT = 200


def check_drawing(data: Any) -> list[dict[str, Any]]:
    """`data` as a checked drawing (a list of plain shape dicts, coordinates rounded to 1/10000), or
    ValidationError naming the first shape that is wrong and why."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValidationError("drawing must be a list of shapes.", field="drawing")
    if len(data) > MAX_SHAPES:
        raise ValidationError(f"A drawing holds at most {MAX_SHAPES} shapes; this one has {len(data)}.",
                              field="drawing")
    return [_shape(index, shape) for index, shape in enumerate(data)]


def _shape(index: int, shape: Any) -> dict[str, Any]:
    where = f"drawing shape {index + 1}"
    if not isinstance(shape, dict):
        raise ValidationError(f"{where} is not an object.", field="drawing")
    kind = shape.get("kind")
    if kind not in KINDS:
        raise ValidationError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}.", field="drawing")
    colour = shape.get("colour", "red")
    if colour not in PALETTE:
        raise ValidationError(f"{where}: colour must be one of {', '.join(PALETTE)}, not {colour!r}.",
                              field="drawing")
    unknown = set(shape) - {"kind", "colour", "points", "box", "text"}
    if unknown:
        raise ValidationError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.", field="drawing")
    checked: dict[str, Any] = {"kind": kind, "colour": colour}
    if kind in ("rect", "ellipse"):
        box = _numbers(shape.get("box"), 4, where, "box")
        checked["box"] = [min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])]
        return checked
    points = shape.get("points")
    wanted = {"line": (2, MAX_POINTS), "arrow": (2, 2), "text": (1, 1)}[kind]
    if not isinstance(points, list) or not wanted[0] <= len(points) <= wanted[1]:
        count = f"{wanted[0]}" if wanted[0] == wanted[1] else f"{wanted[0]} to {wanted[1]}"
        raise ValidationError(f"{where}: a {kind} needs {count} points ([x, y] pairs).", field="drawing")
    checked["points"] = [_numbers(point, 2, where, "point") for point in points]
    if kind == "text":
        text = plain_text(shape.get("text"), MAX_SHAPE_TEXT, what=f"{where}'s text")
        if not text:
            raise ValidationError(f"{where}: a text shape needs its text.", field="drawing")
        checked["text"] = text
    return checked


def _numbers(value: Any, count: int, where: str, what: str) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) != count:
        raise ValidationError(f"{where}: a {what} is {count} numbers.", field="drawing")
    out = []
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number) \
                or not 0.0 <= number <= 1.0:
            raise ValidationError(f"{where}: coordinates are fractions of the frame from 0 to 1, not {number!r}.",
                                  field="drawing")
        out.append(round(float(number), 4))
    return out
