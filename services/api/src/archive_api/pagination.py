"""Pages: opaque keyset cursors, limits and offsets, capped totals, and time parameters.

A cursor is base64url (unpadded) of msgpack `[1, kind, *key]`: the sort key of the last row of a
page (e.g. `sent_at` in microseconds and the message id). The next page continues strictly after
it, so rows inserted meanwhile never shift a page and every row is seen once. Cursors are opaque
to clients: the format may change, a cursor of another kind is refused (400 `cursor`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, TypeVar

import msgspec

from archive_api.errors import InvalidParameterError
from archive_api.schemas import Page

CURSOR_VERSION: Final = 1
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MIN_TIME: Final = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME: Final = datetime(9999, 1, 1, tzinfo=UTC)
MAX_LIMIT: Final = 1000
DEFAULT_LIMIT: Final = 50

Order = Literal["desc", "asc"]
B = TypeVar("B", bound=Page)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[Any])


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch (exact, unlike float timestamps)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def encode_cursor(kind: str, *key: Any) -> str:
    """An opaque cursor for the row whose sort key is `key`."""
    raw = _encoder.encode([CURSOR_VERSION, kind, *key])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, kind: str, types: Sequence[type]) -> list[Any]:
    """The key of a cursor issued for `kind`; 400 `cursor` for anything else."""
    if len(cursor) > 512:
        raise InvalidParameterError("cursor", "not a cursor issued by this api")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        items = _decoder.decode(raw)
    except (ValueError, binascii.Error, msgspec.DecodeError):
        raise InvalidParameterError("cursor", "not a cursor issued by this api") from None
    if len(items) != 2 + len(types) or items[0] != CURSOR_VERSION or items[1] != kind:
        raise InvalidParameterError("cursor", "not a cursor of this endpoint and order")
    key = items[2:]
    for value, expected in zip(key, types, strict=True):
        if not isinstance(value, expected) or isinstance(value, bool):
            raise InvalidParameterError("cursor", "not a cursor issued by this api")
    if any(isinstance(v, int) and not -(2**62) < v < 2**62 for v in key):
        raise InvalidParameterError("cursor", "out of range")
    return key


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> int:
    if not 1 <= limit <= maximum:
        raise InvalidParameterError("limit", f"must be between 1 and {maximum}, got {limit}")
    return limit


def check_offset(offset: int, maximum: int, cursor: str | None) -> int:
    if offset < 0:
        raise InvalidParameterError("offset", f"must be 0 or more, got {offset}")
    if offset > maximum:
        raise InvalidParameterError(
            "offset", f"must be at most {maximum}; page deeper with `cursor` (see nextCursor)"
        )
    if offset and cursor:
        raise InvalidParameterError("offset", "cannot be combined with cursor")
    return offset


_DIGITS = re.compile(r"-?\d{1,16}")


def parse_time(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 time (a date, or a date-time; no zone means UTC) or epoch milliseconds."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if _DIGITS.fullmatch(text):
            moment = EPOCH + timedelta(milliseconds=int(text))
        else:
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidParameterError(
            name,
            f"expected an ISO 8601 time (2024-05-01T12:00:00Z) or epoch milliseconds, "
            f"got {value[:40]!r}",
        ) from None
    if not MIN_TIME <= moment < MAX_TIME:
        raise InvalidParameterError(name, "must be between 1970 and 9999")
    return moment


def time_range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """(since, until) parsed; since inclusive, until exclusive; 400 if since is after until."""
    start, end = parse_time("since", since), parse_time("until", until)
    if start is not None and end is not None and start > end:
        raise InvalidParameterError("since", "must not be after until")
    return start, end


def capped_total(counted: int, cap: int) -> tuple[int, bool]:
    """(total, totalIsExact) from a count of at most cap + 1 rows."""
    if counted > cap:
        return cap, False
    return counted, True


@dataclasses.dataclass(frozen=True, slots=True)
class TimePage:
    """One page of a list ordered by (time, id): its rows and what the body says about the rest."""

    rows: list[Any]
    total: int
    total_is_exact: bool
    has_more: bool
    next_cursor: str | None

    def body(self, cls: type[B], **items: Any) -> B:
        """The response body `cls` of this page, with its `items` list."""
        return cls(
            total=self.total,
            total_is_exact=self.total_is_exact,
            has_more=self.has_more,
            next_cursor=self.next_cursor,
            **items,
        )


def keyset_after(
    prefix: str, order: Order, cursor: str | None
) -> tuple[str, tuple[datetime, str] | None]:
    """The cursor kind of a (time, id) list in `order`, and the key its cursor continues after."""
    kind = prefix + ("d" if order == "desc" else "a")
    if not cursor:
        return kind, None
    micros, row_id = decode_cursor(cursor, kind, (int, str))
    return kind, (from_micros(micros), row_id)


async def time_page(
    *,
    kind: str,
    after: tuple[datetime, str] | None,
    limit: int,
    fetch: Callable[[int], Awaitable[list[Any]]],
    count: Callable[[], Awaitable[int]],
    cap: int,
    time_column: str,
    offset: int = 0,
) -> TimePage:
    """A page of a (time, id) list: `fetch(n)` gets up to n rows after the key, `count()` counts
    up to cap + 1 matches (called only when the page alone cannot tell the total)."""
    rows = await fetch(limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if after is None and not has_more:
        total, exact = offset + len(rows), True
    else:
        total, exact = capped_total(await count(), cap)
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(kind, to_micros(last[time_column]), last["id"])
    return TimePage(rows, total, exact, has_more, next_cursor)
