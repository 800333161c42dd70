"""Pure rules of the store: which errors split a batch, which are retried; which months exist."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import asyncpg.exceptions as pg
import pytest

from archive_writer.errors import RowRejectedError, TransientStoreError
from archive_writer.store import classify, months_of

REJECT = RowRejectedError
RETRY = TransientStoreError


def pg_error(cls: type[asyncpg.PostgresError], sqlstate: str) -> asyncpg.PostgresError:
    assert cls.sqlstate == sqlstate  # the class is what asyncpg raises for this SQLSTATE
    return cls("boom")


@pytest.mark.parametrize(
    ("exc", "kind", "reason"),
    [
        pytest.param(
            pg_error(pg.CharacterNotInRepertoireError, "22021"),
            REJECT,
            None,
            id="22021:nul-byte->split",
        ),
        pytest.param(
            pg_error(pg.NumericValueOutOfRangeError, "22003"),
            REJECT,
            None,
            id="22003:out-of-range->split",
        ),
        pytest.param(
            pg_error(pg.CheckViolationError, "23514"), REJECT, None, id="23514:check->split"
        ),
        pytest.param(
            pg_error(pg.ProgramLimitExceededError, "54000"),
            REJECT,
            None,
            id="54000:index-row-too-big->split",
        ),
        pytest.param(
            UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogate"),
            REJECT,
            None,
            id="client:lone-surrogate->split",
        ),
        pytest.param(
            pg_error(pg.DeadlockDetectedError, "40P01"),
            RETRY,
            "conflict",
            id="40P01:deadlock->retry",
        ),
        pytest.param(
            pg_error(pg.SerializationError, "40001"),
            RETRY,
            "conflict",
            id="40001:serialization->retry",
        ),
        pytest.param(
            pg_error(pg.AdminShutdownError, "57P01"),
            RETRY,
            "connection",
            id="57P01:shutdown->retry",
        ),
        pytest.param(
            pg_error(pg.TooManyConnectionsError, "53300"),
            RETRY,
            "connection",
            id="53300:too-many-connections->retry",
        ),
        pytest.param(
            pg_error(pg.UndefinedColumnError, "42703"),
            RETRY,
            "server",
            id="42703:schema-bug->retry-never-dead-letter",
        ),
        pytest.param(ConnectionResetError(), RETRY, "connection", id="socket-reset->retry"),
        pytest.param(TimeoutError(), RETRY, "timeout", id="timeout->retry"),
    ],
)
def test_errors_are_sorted_into_split_or_retry(
    exc: BaseException, kind: type, reason: str | None
) -> None:
    """Row-level errors split the batch; everything else retries it whole, never losing it."""
    result = classify(exc)
    assert isinstance(result, kind)
    if reason is not None:
        assert str(result) == reason


def ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


NOW = ms(2026, 11, 24)


@pytest.mark.parametrize(
    ("timestamps", "months"),
    [
        pytest.param([ms(2026, 11, 3), ms(2026, 11, 20)], [(2026, 11)], id="one-month"),
        pytest.param(
            [ms(2026, 10, 31, 23), ms(2026, 11, 1, 1)],
            [(2026, 10), (2026, 11)],
            id="month-boundary",
        ),
        pytest.param([0, -5, ms(2026, 11, 3)], [(2026, 11)], id="junk:epoch-and-negative-ignored"),
        pytest.param([ms(2031, 1, 1)], [], id="junk:years-ahead-ignored"),
        pytest.param(
            [ms(2019, 5, 1), ms(2026, 11, 3)],
            [(2019, 5), (2026, 11)],
            id="far-apart:only-their-months",
        ),
    ],
)
def test_partitions_are_ensured_for_the_months_of_real_times(
    timestamps: list[int], months: list[tuple[int, int]]
) -> None:
    """Months with events get a partition; junk times stay in messages_default."""
    got = months_of(timestamps, now=NOW)
    assert sorted((m.year, m.month) for m in got) == months
