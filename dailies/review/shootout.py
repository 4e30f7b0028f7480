"""The shoot-out: one prompt sent to several providers' models, each asked for what it can make.

No single model leads on every dimension, so a team sends one base prompt to, say, the engine, a fal
Kling model and Veo, and reviews the takes side by side. "provider/model" is then an axis of the
Variants grid like any other (`AXIS`). Models differ in what they accept (Kling on fal takes 5 or 10
seconds at 16:9, 9:16 or 1:1; the engine takes 4, 8 or 12 seconds at WxH sizes), so the size and
length asked for are fitted to each model (`fit`) and the fitting is said (`Fitted.mapping`, e.g.
"1280x720 → 16:9 · 8 s → 5 s") before anything is sent.

UI-free: the Variants page shows what these return; the studio sends the pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dailies.errors import APIError, RequestRefused, ValidationError
from dailies.providers.base import Capabilities
from dailies.providers.registry import problem

AXIS = "provider/model"
"""The axis name the takes of a shoot-out carry their provider and model under (their label)."""


@dataclass(frozen=True, order=True)
class Target:
    """One provider's model: where one column of a shoot-out is sent."""

    provider: str
    model: str

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """`"fal/fal-ai/veo3"` -> provider `fal`, model `fal-ai/veo3` (provider names have no slash)."""
        provider, slash, model = text.strip().partition("/")
        if not slash or not provider or not model:
            raise ValidationError(f"A shoot-out target is provider/model, such as engine/sora-2; not {text!r}.")
        return cls(provider, model)


@dataclass(frozen=True)
class Fitted:
    """What one target is asked for, against what the grid asked."""

    target: Target
    asked_size: str
    asked_seconds: int
    size: str
    seconds: int
    vendor_size: str | None = None
    """The vendor's word for `size` (`"16:9"`, `"1280:720"`), when it has its own."""

    @property
    def changed(self) -> bool:
        return self.size != self.asked_size or self.seconds != self.asked_seconds

    @property
    def mapping(self) -> str:
        """How the asked size and length reach this model, e.g. "1280x720 → 16:9 · 8 s → 5 s"."""
        shape = self.vendor_size or self.size
        if self.vendor_size and self.size != self.asked_size:
            shape = f"{self.vendor_size} ({self.size})"
        parts = [self.asked_size if shape == self.asked_size else f"{self.asked_size} → {shape}",
                 f"{self.asked_seconds} s" if self.seconds == self.asked_seconds
                 else f"{self.asked_seconds} s → {self.seconds} s"]
        return " · ".join(parts)


def _dims(size: str) -> tuple[int, int] | None:
    width, x, height = size.partition("x")
    return (int(width), int(height)) if x and width.isdigit() and height.isdigit() else None


def _orientation(size: str) -> int:
    dims = _dims(size)
    return 0 if dims is None else (dims[0] > dims[1]) - (dims[0] < dims[1])


def fit_size(sizes: Iterable[str], asked: str) -> str:
    """The asked size when the model makes it; else the one of the same orientation nearest in pixels;
    else the model's first size."""
    offered = list(sizes)
    if not offered:
        raise ValidationError("This model lists no sizes.")
    if asked in offered:
        return asked
    dims = _dims(asked)
    same = [s for s in offered if _orientation(s) == _orientation(asked) and _dims(s)]
    if dims is None or not same:
        return offered[0]
    area = dims[0] * dims[1]
    return min(same, key=lambda s: abs(_dims(s)[0] * _dims(s)[1] - area))  # type: ignore[index]


def fit_seconds(accepted: Iterable[int], asked: int) -> int:
    """The asked length when the model takes it; else the longest it takes that is not longer (never
    paying for more than was asked); else its shortest."""
    offered = sorted(set(accepted))
    if not offered:
        raise ValidationError("This model lists no durations.")
    if asked in offered:
        return asked
    shorter = [s for s in offered if s <= asked]
    return shorter[-1] if shorter else offered[0]


def fit(target: Target, caps: Capabilities, size: str, seconds: int) -> Fitted:
    """`size` and `seconds` as `target`'s model can take them."""
    fitted_size = fit_size(caps.sizes_for(target.model), size)
    names: Mapping[str, str] = caps.size_names.get(target.model) or {}
    return Fitted(target, size, seconds, fitted_size, fit_seconds(caps.seconds_for(target.model), seconds),
                  names.get(fitted_size))


def text_models(caps: Capabilities) -> tuple[str, ...]:
    """The models a text-only prompt can be sent to (Variants has no reference image)."""
    return tuple(m for m in caps.models if caps.text_models is None or m in caps.text_models)


def targets_of(capabilities: Mapping[str, Capabilities | Exception]) -> tuple[list[Target], dict[str, str]]:
    """Every provider's text-to-video models as targets, and why a provider offers none (no key, no answer)."""
    targets: list[Target] = []
    unavailable: dict[str, str] = {}
    for provider, caps in capabilities.items():
        if isinstance(caps, Exception):
            unavailable[provider] = str(caps)
            continue
        targets.extend(Target(provider, model) for model in text_models(caps))
    return targets, unavailable


def capabilities_by_provider(studio: object, names: Iterable[str]) -> dict[str, Capabilities | Exception]:
    """Each provider's capabilities, or the refusal it answered with (a missing key, a server down)."""
    found: dict[str, Capabilities | Exception] = {}
    for name in names:
        try:
            if why := problem(studio.provider(name)):  # type: ignore[attr-defined]
                raise ValidationError(why)
            found[name] = studio.capabilities(name)  # type: ignore[attr-defined]
        except (APIError, RequestRefused) as exc:
            found[name] = exc
    return found
