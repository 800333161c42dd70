"""A batch PostgreSQL refuses is split until the culprit is alone; every other row is stored."""

from __future__ import annotations

import pytest

from archive_writer.dead_letter import backoff_delay, store_isolating
from archive_writer.errors import RowRejectedError


class Part:
    """A splittable list of event numbers."""

    def __init__(self, items: list[int]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def split(self) -> tuple[Part, Part]:
        middle = len(self.items) // 2
        return Part(self.items[:middle]), Part(self.items[middle:])


def harness(bad: set[int]):
    stored: list[int] = []
    rejected: list[int] = []
    writes: list[int] = []

    async def write(part: Part) -> int:
        writes.append(len(part))
        if bad & set(part.items):
            raise RowRejectedError("22P05 bad value")
        stored.extend(part.items)
        return len(part)

    async def reject(part: Part, exc: RowRejectedError) -> None:
        assert exc.reason == "22P05 bad value"
        rejected.extend(part.items)

    return stored, rejected, writes, write, reject


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(set(), id="no-culprit:one-write"),
        pytest.param({0}, id="culprit:first"),
        pytest.param({511}, id="culprit:middle"),
        pytest.param({999}, id="culprit:last"),
        pytest.param({3, 700}, id="culprits:two"),
        pytest.param(set(range(1000)), id="culprits:all"),
    ],
)
async def test_every_good_event_is_stored_and_only_culprits_are_rejected(bad: set[int]) -> None:
    """The culprits end up rejected one by one, everything else stored exactly once, in order."""
    stored, rejected, writes, write, reject = harness(bad)
    splits: list[int] = []
    results = await store_isolating(
        Part(list(range(1000))), write, reject, lambda: splits.append(1)
    )
    assert sorted(rejected) == sorted(bad)
    assert stored == [i for i in range(1000) if i not in bad]
    assert sum(results) == 1000 - len(bad)
    if not bad:
        assert writes == [1000]
        assert not splits


async def test_one_culprit_costs_about_two_writes_per_halving() -> None:
    """Isolating one bad row among 1,024 takes 2 log2(1024) + 1 writes."""
    _, rejected, writes, write, reject = harness({777})
    await store_isolating(Part(list(range(1024))), write, reject)
    assert rejected == [777]
    assert len(writes) == 2 * 10 + 1


async def test_other_errors_propagate_without_splitting() -> None:
    """Only RowRejectedError splits; anything else is the caller's to retry."""

    async def write(part: Part) -> int:
        raise TimeoutError

    async def reject(part: Part, exc: RowRejectedError) -> None:
        raise AssertionError("nothing to reject")

    with pytest.raises(TimeoutError):
        await store_isolating(Part([1, 2, 3]), write, reject)


@pytest.mark.parametrize("attempt", [0, 1, 5, 50], ids=lambda a: f"attempt:{a}")
def test_backoff_grows_exponentially_with_jitter_and_a_cap(attempt: int) -> None:
    """Delays lie in [d/2, d] with d = min(max, min * 2**attempt)."""
    ceiling = min(10.0, 0.1 * 2**attempt)
    for _ in range(200):
        assert ceiling / 2 <= backoff_delay(attempt, 0.1, 10.0) <= ceiling
