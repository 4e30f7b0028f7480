"""What a take will cost before it is sent, and whether today's budget allows it.

Rates are per second of video, per model, optionally per size, as OpenAI published them for Sora 2.
The embedded engine is free. The team can edit the rates in Settings; the estimate is an estimate,
shown before every submit, not a bill.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dailies.errors import BudgetExceeded
from dailies.jobs import Job, JobStatus


@dataclass(frozen=True)
class Rate:
    model_prefix: str
    usd_per_second: float
    sizes: tuple[str, ...] = ()
    """Sizes this rate is for; empty means any size."""
    audio: bool | None = None
    """Takes this rate is for by their sound: False, only silent ones (a vendor's lower silent price, written
    `model@silent` in Settings' table); None, any."""

    def matches(self, model: str, size: str, audio: bool = True) -> bool:
        return (model.startswith(self.model_prefix) and (not self.sizes or size in self.sizes)
                and (self.audio is None or self.audio == audio))


SILENT = "silent"
"""The key suffix of a silent rate in Settings' table (`veo-3.1-generate-001@silent`)."""

DEFAULT_RATES: tuple[Rate, ...] = (
    Rate("sora-2-pro", 0.50, ("1024x1792", "1792x1024")),
    Rate("sora-2-pro", 0.30),
    Rate("sora-2", 0.10),
)


@dataclass(frozen=True)
class PriceList:
    """Rates for one provider, most specific first (the first that matches is used)."""

    rates: tuple[Rate, ...] = DEFAULT_RATES
    free: bool = False

    def per_second(self, model: str, size: str, audio: bool = True) -> float | None:
        if self.free:
            return 0.0
        for rate in self.rates:
            if rate.matches(model, size, audio):
                return rate.usd_per_second
        return None

    def estimate(self, model: str, size: str, seconds: int, *, audio: bool = True) -> float:
        """Dollars for `seconds` of video; an unknown model is priced at the dearest rate we know. A silent
        take (`audio=False`) is priced at the model's silent rate where there is one, else as with sound."""
        rate = self.per_second(model, size, audio)
        if rate is None:
            rate = max((r.usd_per_second for r in self.rates), default=0.0)
        return round(rate * max(seconds, 0), 4)

    @classmethod
    def from_table(cls, table: Mapping[str, float], *, free: bool = False) -> PriceList:
        """Rates from Settings: keys are `model` or `model@WxH`, values dollars per second."""
        rates = []
        for key, value in table.items():
            model, _, size = key.partition("@")
            if size.strip() == SILENT:
                rates.append(Rate(model.strip(), float(value), audio=False))
            else:
                rates.append(Rate(model.strip(), float(value), (size.strip(),) if size else ()))
        # Longer (more specific) prefixes first, so `veo3.1@silent` never prices a `veo3.1_fast` take; for one
        # prefix, silent and sized rates before the general one.
        rates.sort(key=lambda r: (-len(r.model_prefix), r.audio is None, not r.sizes))
        return cls(tuple(rates), free=free)

    def to_table(self) -> dict[str, float]:
        table: dict[str, float] = {}
        for rate in self.rates:
            if rate.audio is False:
                table[f"{rate.model_prefix}@{SILENT}"] = rate.usd_per_second
                continue
            for size in rate.sizes or ("",):
                table[f"{rate.model_prefix}@{size}" if size else rate.model_prefix] = rate.usd_per_second
        return table


BILLED_STATUSES = frozenset(
    {JobStatus.WAITING, JobStatus.QUEUED, JobStatus.IN_PROGRESS, JobStatus.DOWNLOADING, JobStatus.COMPLETED,
     JobStatus.TIMED_OUT, JobStatus.NEEDS_LOOK}
)


def start_of_day(now: float | None = None) -> float:
    today = dt.datetime.fromtimestamp(now if now is not None else dt.datetime.now().timestamp())
    return today.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def spend_since(jobs: Iterable[Job], since: float) -> float:
    """Estimated spend of jobs created since `since`; failed jobs are not billed (a job that needs a look
    may have been made, so it counts)."""
    return round(sum(j.cost_estimate for j in jobs if j.created_at >= since and j.status in BILLED_STATUSES), 4)


def check_budget(cost: float, spent_today: float, daily_budget: float | None) -> None:
    """Refuse a submit that would take today's spend over the budget (None or <= 0: no budget)."""
    if daily_budget is None or daily_budget <= 0 or cost <= 0:
        return
    if spent_today + cost > daily_budget + 1e-9:
        raise BudgetExceeded(
            f"This would cost ${cost:.2f} and today's spend is ${spent_today:.2f} of a "
            f"${daily_budget:.2f} budget. Raise the budget in Settings or choose fewer or shorter takes."
        )
