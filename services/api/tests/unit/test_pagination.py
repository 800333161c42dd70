"""Cursors, limits, offsets, capped totals and time parameters."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import msgspec
import pytest

from archive_api.errors import InvalidParameterError
from archive_api.pagination import (
    capped_total,
    check_limit,
    check_offset,
    decode_cursor,
    encode_cursor,
    from_micros,
    parse_time,
    time_range,
    to_micros,
)


def test_a_cursor_round_trips_its_key():
    """The key encoded in a cursor comes back exactly, microseconds included."""
    moment = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    cursor = encode_cursor("md", to_micros(moment), "abc-123", 1000, 0)
    micros, message_id, total, exact = decode_cursor(cursor, "md", (int, str, int, int))
    assert (from_micros(micros), message_id, total, exact) == (moment, "abc-123", 1000, 0)
    assert "=" not in cursor


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("!!!", id="not-base64"),
        pytest.param(base64.urlsafe_b64encode(b"\xc1").decode(), id="not-msgpack"),
        pytest.param(encode_cursor("ul", "a", "b"), id="other-kind"),
        pytest.param(encode_cursor("md", "x", "y", 1, 1), id="wrong-types"),
        pytest.param(encode_cursor("md", 1, "y"), id="too-short"),
        pytest.param(encode_cursor("md", 2**63, "y", 1, 1), id="out-of-range"),
        pytest.param(encode_cursor("md", True, "y", 1, 1), id="bool-for-int"),
        pytest.param("A" * 600, id="too-long"),
        pytest.param(
            base64.urlsafe_b64encode(msgspec.msgpack.encode([9, "md", 1, "y", 1, 1])).decode(),
            id="future-version",
        ),
    ],
)
def test_bad_cursors_are_refused_naming_cursor(cursor):
    """Anything but a cursor of this endpoint is a 400 on `cursor`."""
    with pytest.raises(InvalidParameterError) as caught:
        decode_cursor(cursor, "md", (int, str, int, int))
    assert caught.value.parameter == "cursor"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC), id="date"),
        pytest.param("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC), id="zulu"),
        pytest.param(
            "2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, tzinfo=UTC), id="offset"
        ),
        pytest.param("2024-05-01T12:00:00", datetime(2024, 5, 1, 12, tzinfo=UTC), id="naive-utc"),
        pytest.param("1714564800000", datetime(2024, 5, 1, 12, tzinfo=UTC), id="epoch-ms"),
    ],
)
def test_times_parse_from_iso_or_epoch_ms(value, expected):
    """since/until accept ISO 8601 and epoch milliseconds, in UTC."""
    assert parse_time("since", value) == expected


@pytest.mark.parametrize(
    "value", ["soon", "2024-13-01", "99999999999999999", "1800-01-01", "-5000000000000"]
)
def test_bad_times_name_the_parameter(value):
    """A time that does not parse, or is before 1970, is a 400 naming the parameter."""
    with pytest.raises(InvalidParameterError, match=r"^until:"):
        parse_time("until", value)


def test_since_after_until_is_refused():
    """since later than until is a 400 on since."""
    with pytest.raises(InvalidParameterError, match=r"^since:"):
        time_range("2024-02-01", "2024-01-01")
    assert time_range(None, None) == (None, None)


def test_limits_offsets_and_totals():
    """Limits are 1-1000, offsets bounded and exclusive with cursors, totals capped."""
    assert check_limit(50) == 50
    for bad in (0, 1001):
        with pytest.raises(InvalidParameterError, match=r"^limit:"):
            check_limit(bad)
    assert check_offset(10, 100, None) == 10
    with pytest.raises(InvalidParameterError, match=r"^offset:.*cursor"):
        check_offset(101, 100, None)
    with pytest.raises(InvalidParameterError, match=r"^offset:"):
        check_offset(5, 100, "cursor")
    assert capped_total(10, 1000) == (10, True)
    assert capped_total(1001, 1000) == (1000, False)
