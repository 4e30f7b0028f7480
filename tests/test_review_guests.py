"""Guest links on a real store: a secret opens its scope only, until it expires or is revoked, and is never kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from dailies.errors import ValidationError
from dailies.review.guests import GuestLinks, GuestRefused
from dailies.store import JobStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_guest_link_opens_its_scope_until_it_expires_or_is_revoked(tmp_path: Path) -> None:
    store, clock = JobStore(tmp_path / "jobs.json"), Clock()
    links = GuestLinks(store, clock=clock)
    link = links.create("round", "rev_1", ["job_a", "job_b"], made_by="Ann", life_s=3600, label="client")
    other = links.create("board", "board_9", ["job_z"], made_by="Ann", life_s=60)
    opened = links.open(link.secret)
    assert opened.scope.allows("job_a") and not opened.scope.allows("job_z"), "its takes, no other"
    assert links.open(other.secret).scope.kind == "board"
    kept = store.journal_path.read_text()
    assert "secret_sha256" in kept and link.secret not in kept, "only the secret's hash is kept"
    assert GuestLinks(JobStore(tmp_path / "jobs.json"), clock=clock).open(link.secret).id == link.id, \
        "another process opens it too"
    with pytest.raises(GuestRefused, match="not valid"):
        links.open(link.secret + "x")
    clock.now += 61
    with pytest.raises(GuestRefused, match="expired"):
        links.open(other.secret)
    links.revoke(link.id)
    with pytest.raises(GuestRefused, match="was revoked"):
        links.open(link.secret)
    assert [(g.id, g.state(clock.now)) for g in links.of_scope("round", "rev_1")] == [(link.id, "revoked")]


@pytest.mark.parametrize(("args", "said"), [
    (("playlist", "p", ["job_a"]), "not 'playlist'"),
    (("round", "r", []), "1 to 500 takes"),
])
def test_a_bad_guest_link_is_refused(tmp_path: Path, args: tuple, said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        GuestLinks(JobStore(tmp_path / "jobs.json")).create(*args, made_by="Ann", life_s=60)
    with pytest.raises(ValidationError, match="30 days"):
        GuestLinks(JobStore(tmp_path / "jobs.json")).create("round", "r", ["a"], made_by="Ann", life_s=31 * 86400)
