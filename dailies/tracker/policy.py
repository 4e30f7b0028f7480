"""When the tracker asks again: the polling policy as frozen data, and the rule it follows."""

from __future__ import annotations

from dataclasses import dataclass

from dailies.backoff import Backoff


@dataclass(frozen=True)
class PollPolicy:
    """When to ask again. All times in seconds."""

    first: float = 1.0
    growth: float = 1.6
    cap: float = 15.0
    floor: float = 0.2
    deadline: float = 15 * 60
    """A job still running this long after it was sent is marked timed out (it can be re-checked)."""
    download_attempts: int = 6
    """Downloads of a finished job tried this many times before it is marked failed."""
    unconfirmed_grace: float = 120.0
    """How long a job whose create never answered is looked for at the provider (never past its deadline).
    Then it is failed when the provider listed its videos and it was not among them, and otherwise it
    needs a look: the provider may have made it, and only a person can find out."""
    adopt_window: float = 180.0
    """A listed video made up to this long after a job was sent may be that job's (uploads and queues)."""
    clock_slack: float = 10.0
    """...and one made up to this long before it, for a provider whose clock runs behind ours."""
    safety_net: float = 60.0
    """While a provider's webhook deliveries arrive, a job of it is asked about at most this often, and only
    once the deliveries have been quiet this long (one within it proves the endpoint, secret and sender work)."""
    safety_cap: float = 300.0
    """...but never less often than this per job, however busy the deliveries: what a lost event can cost."""
    quiet_after: float = 600.0
    """A provider whose last verified delivery is older than this is polled on the normal schedule again."""

    def next_delay(self, polls: int, *, hint: float | None = None, eta: float | None = None) -> float:
        """The wait before poll number `polls + 1`.

        The server's hint wins, kept within [floor, cap]. Without one, a progress-rate estimate of
        the time left is used (aiming a little past it, so the poll lands just after completion),
        and without that, a backoff from `first` growing by `growth` to `cap`.
        """
        backoff = Backoff(self.first, self.cap, self.growth, floor=self.floor)
        if hint is None and eta is not None:
            hint = eta * 1.05 + 0.05
        return backoff.delay(polls, retry_after=hint)
