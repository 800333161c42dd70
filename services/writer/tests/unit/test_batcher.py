"""The batcher decides when a batch is due: at a size, or at an age."""

from __future__ import annotations

import pytest

from archive_writer.batcher import Batch, Batcher


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def entries(count: int, kind: int = 0, start: int = 0) -> list[tuple[int, tuple[int], str]]:
    return [(kind, (start + i,), f"msg{start + i}") for i in range(count)]


class TestBatcher:
    def test_an_empty_batcher_is_never_due(self) -> None:
        """With nothing open there is no deadline and nothing to flush."""
        clock = Clock()
        batcher: Batcher[str] = Batcher(10, 0.5, clock)
        clock.now += 3600
        assert (batcher.time_left(), batcher.due(), len(batcher)) == (None, False, 0)

    @pytest.mark.parametrize(
        ("added", "due"),
        [
            pytest.param(9, False, id="9-of-10:not-due"),
            pytest.param(10, True, id="10-of-10:due"),
        ],
    )
    def test_a_batch_is_due_when_it_reaches_its_size(self, added: int, due: bool) -> None:
        """The size trigger fires exactly at max_events, whatever the age."""
        batcher: Batcher[str] = Batcher(10, 60.0, Clock())
        batcher.extend(entries(added))
        assert batcher.due() is due

    @pytest.mark.parametrize(
        ("waited", "due"),
        [
            pytest.param(0.499, False, id="age:499ms-of-500:not-due"),
            pytest.param(0.5, True, id="age:500ms-of-500:due"),
        ],
    )
    def test_a_batch_is_due_when_its_oldest_event_is_old_enough(
        self, waited: float, due: bool
    ) -> None:
        """The age trigger counts from the first event added, not from the last."""
        clock = Clock()
        batcher: Batcher[str] = Batcher(1000, 0.5, clock)
        batcher.extend(entries(1))
        clock.now += waited / 2
        batcher.extend(entries(1, start=1))  # a later event does not restart the clock
        clock.now += waited / 2
        assert batcher.due() is due
        assert batcher.time_left() == pytest.approx(max(0.0, 0.5 - waited))

    def test_entries_beyond_the_size_are_returned_for_the_next_batch(self) -> None:
        """extend() fills the open batch and hands back what did not fit, in order."""
        batcher: Batcher[str] = Batcher(4, 1.0, Clock())
        rest = batcher.extend(entries(6))
        assert [e[2] for e in rest] == ["msg4", "msg5"]
        batch = batcher.take()
        assert batch.msgs[0] == ["msg0", "msg1", "msg2", "msg3"]
        assert len(batcher) == 0
        assert batcher.time_left() is None

    def test_rows_are_kept_per_table_with_their_messages(self) -> None:
        """Each table's rows travel with the messages they came from, in the same order."""
        batcher: Batcher[str] = Batcher(10, 1.0, Clock())
        batcher.extend(
            [*entries(2, kind=0), *entries(1, kind=2, start=5), *entries(1, kind=1, start=9)]
        )
        batch = batcher.take()
        assert batch.rows == ([(0,), (1,)], [(9,)], [(5,)])
        assert batch.msgs == (["msg0", "msg1"], ["msg9"], ["msg5"])
        assert batch.all_msgs() == ["msg0", "msg1", "msg9", "msg5"]

    def test_taking_a_batch_resets_the_age(self) -> None:
        """The next batch's age starts with its own first event."""
        clock = Clock()
        batcher: Batcher[str] = Batcher(10, 0.5, clock)
        batcher.extend(entries(1))
        clock.now += 0.6
        batcher.take()
        batcher.extend(entries(1))
        assert batcher.due() is False

    def test_invalid_limits_are_refused(self) -> None:
        """A batcher without a positive size and age would never flush."""
        with pytest.raises(ValueError, match="max_events"):
            Batcher(0, 0.5)


class TestBatchSplit:
    @pytest.mark.parametrize("size", [2, 3, 7, 100], ids=lambda n: f"events:{n}")
    def test_halves_cover_the_batch_exactly(self, size: int) -> None:
        """Splitting keeps every row once, in order, with its message, sizes differing by one."""
        batcher: Batcher[str] = Batcher(1000, 1.0, Clock())
        mixed = [(i % 3, (i,), f"msg{i}") for i in range(size)]
        batcher.extend(mixed)
        batch = batcher.take()
        first, second = batch.split()
        assert len(first) == size // 2
        assert len(second) == size - size // 2
        for kind in range(3):
            assert first.rows[kind] + second.rows[kind] == batch.rows[kind]
            assert first.msgs[kind] + second.msgs[kind] == batch.msgs[kind]

    def test_an_empty_batch_has_no_events(self) -> None:
        """A fresh Batch is empty."""
        assert len(Batch()) == 0
