"""How long a tracker holds a job, when it renews its hold, and when it asks again for one another holds.

The store keeps leases and nothing more (`Store.claim`: take or renew one, atomically across processes, and
take over one whose holder died); these numbers and rules are the tracker's, so they live beside it. A
lease long enough for a slow step (a poll through its retries, a download between two renewals) and short
enough that a job whose process stopped is taken over within half a minute.
"""

from __future__ import annotations

from dataclasses import dataclass

from dailies.store import Store

__all__ = ["LeasePolicy"]


@dataclass(frozen=True)
class LeasePolicy:
    """A tracker's leases: frozen data and pure rules (see the module)."""

    ttl_s: float = 30.0
    """How long a claim holds a job for its owner."""

    @property
    def keep_above_s(self) -> float:
        """A lease of ours with more than this left (half its life) is kept without a write, so a tracker may
        claim before every step and still write a job's lease once in 15 s at most."""
        return self.ttl_s / 2

    @property
    def adopt_every_s(self) -> float:
        """How often a tracker looks for active jobs it does not follow (another process's, which it takes
        over when their lease lapses): four times a lease, so a lapsed one waits a quarter of a lease at most."""
        return self.ttl_s / 4

    def ask_again_in(self, until: float, now: float) -> float:
        """When to ask again for a job another tracker holds until `until`: when that lease may have lapsed, but
        not sooner than half a second (its holder renews it meanwhile) nor later than a lease from now."""
        return min(max(until - now, 0.5), self.ttl_s)

    def claim(self, store: Store, job_id: str, owner: str) -> bool:
        """Take or renew `owner`'s lease on the job by these rules; False while another's lease runs."""
        return store.claim(job_id, owner, self.ttl_s, keep_above=self.keep_above_s)
