"""Pieces of the prompt form that Generate and Variants share: presets, model, size, reference."""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from dailies.errors import ValidationError
from dailies.providers.base import Capabilities
from dailies.studio import Studio
from dailies.validation import READABLE_FORMATS, REFERENCE_SUFFIXES, check_reference_image
from dailies.videos_spec import SIZES_720P

CAMERA_PRESETS = ("static", "slow pan left", "pan right", "tilt up", "zoom in", "dolly out", "orbit", "handheld")
LIGHT_PRESETS = ("golden hour", "overcast", "night", "neon", "morning", "sunset", "fog", "underwater")


def count_of(n: int, noun: str) -> str:
    """ "1 take", "2 takes": a count with its noun agreeing."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def add_preset(key: str) -> None:
    """Append the chosen preset to the prompt, then clear the choice so it can be picked again."""
    choice = st.session_state.get(key)
    if choice:
        current = st.session_state.get("prompt", "").rstrip().rstrip(",")
        st.session_state["prompt"] = f"{current}, {choice}" if current else choice
    st.session_state[key] = None


PRESETS_PER_ROW = 4
"""Pills a row holds: a row of pills does not wrap (it scrolls, cut at the form's edge), and four of the
longest presets fit the Generate form at 1280 px and up."""


def preset_pills(label: str, presets: tuple[str, ...], key: str) -> None:
    """The presets as rows of pills, each short enough to be seen whole; a click appends one to the prompt.

    The first row has the key `key` and the label; the next rows `key_2`, `key_3`… under it, unlabelled."""
    for row in range(0, len(presets), PRESETS_PER_ROW):
        row_key = key if row == 0 else f"{key}_{row // PRESETS_PER_ROW + 1}"
        st.pills(label, presets[row:row + PRESETS_PER_ROW], key=row_key, on_change=add_preset, args=(row_key,),
                 label_visibility="visible" if row == 0 else "collapsed")


def model_choice(caps: Capabilities, key: str = "model") -> str:
    return st.selectbox("Model", caps.models, key=key, format_func=caps.model_label, width="stretch",
                        help="Read from the provider's /v1/models; only video models are offered. "
                             "A local preview renderer draws a procedural preview on this machine "
                             "(no cost), not the vendor's model.")


def size_choice(shared: Studio, caps: Capabilities, model: str, seconds: int, key: str = "size") -> str:
    """720p sizes, and the larger ones only after an explicit opt-in that shows what they cost."""
    sizes = caps.sizes_for(model)
    larger = [s for s in sizes if s not in SIZES_720P]
    high_res = False
    if larger:
        prices = shared.providers.prices(shared.active_provider_name)
        costs = ", ".join(f"{s}: ${prices.estimate(model, s, seconds):.2f}" for s in larger)
        high_res = st.toggle(f"Offer sizes above 720p ({costs} for {seconds}s)", key=f"{key}_high_res",
                             value=shared.settings.allow_high_res)
    offered = [s for s in sizes if high_res or s in SIZES_720P] or list(sizes)
    default = shared.settings.default_size if shared.settings.default_size in offered else offered[0]
    return st.segmented_control("Size", offered, default=default, key=key, required=True) or default


def sound_choice(shared: Studio, caps: Capabilities, model: str, size: str, seconds: int,
                 key: str = "sound") -> bool:
    """Sound on or off, for a model that renders it: a toggle that shows what each costs (Veo 3.1 costs half
    without). A model that cannot be told to stay silent says so instead; one with no sound shows nothing."""
    if model not in caps.audio_models:
        return True
    if not caps.can_be_silent(model):
        st.caption(f"{model} always renders sound with the picture.")
        return True
    prices = shared.providers.prices(shared.active_provider_name)
    with_sound, silent = (prices.estimate(model, size, seconds, audio=audio) for audio in (True, False))
    said = (f"${with_sound:.2f} with sound, ${silent:.2f} without" if silent != with_sound
            else f"${with_sound:.2f} either way")
    initial = {} if key in st.session_state else {"value": True}  # "run again" sets it to the take's choice
    return st.toggle(f"Sound ({said} for {seconds}s)", key=key, **initial,
                     help="Sent to the model as chosen, on or off, and priced so.")


def checked_reference(shared: Studio, upload: UploadedFile | None) -> tuple[str | None, str | None]:
    """The saved, verified reference for this upload (saved once per file), or why it cannot be used."""
    if upload is None:
        return None, None
    saved: dict[str, str] = st.session_state.setdefault("reference_saved", {})
    if upload.file_id not in saved:
        try:
            saved[upload.file_id] = save_reference(shared, upload)
        except ValidationError as exc:
            return None, str(exc)
    return saved[upload.file_id], None


def save_reference(shared: Studio, upload: UploadedFile) -> str:
    """Keep an uploaded reference under the data folder with a generated name; refuse what isn't an image."""
    folder = shared.home / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.name).suffix.lower()
    if suffix.lstrip(".") not in REFERENCE_SUFFIXES:
        raise ValidationError(f"The reference must be a {READABLE_FORMATS} image, not {upload.name!r}.")
    path = folder / f"ref_{uuid.uuid4().hex}{suffix}"
    path.write_bytes(upload.getvalue())
    try:
        check_reference_image(path, shown_name=upload.name)
    except ValidationError:
        path.unlink(missing_ok=True)
        raise
    return str(path)
