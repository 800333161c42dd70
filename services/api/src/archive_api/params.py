"""Query parameters shared by the listing endpoints: declared once, documented once (also in
the OpenAPI schema), so every list reads `limit`, `since` or `channel` the same way."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

from archive_api.pagination import MAX_LIMIT, Order

LimitParam = Annotated[
    int, QueryParameter(description=f"Page size, 1 to {MAX_LIMIT}.", ge=1, le=MAX_LIMIT)
]
OffsetParam = Annotated[
    int, QueryParameter(description="Rows to skip (at most MAX_OFFSET; deeper: use cursor).", ge=0)
]
CursorParam = Annotated[
    str | None, QueryParameter(description="`nextCursor` of the previous page.", max_length=512)
]
SinceParam = Annotated[
    str | None,
    QueryParameter(description="From this time, inclusive: ISO 8601 or epoch milliseconds."),
]
UntilParam = Annotated[
    str | None,
    QueryParameter(description="Before this time, exclusive: ISO 8601 or epoch milliseconds."),
]
OrderParam = Annotated[
    Order, QueryParameter(description="`desc` (newest first, default) or `asc` (oldest first).")
]
ChannelParam = Annotated[str | None, QueryParameter(description="Channel login.")]
UserParam = Annotated[
    str | None, QueryParameter(description="User login, or `id:<twitch user id>`.")
]
IncludeDeletedParam = Annotated[
    bool, QueryParameter(name="includeDeleted", description="Also deleted messages.")
]
DeletedOnlyParam = Annotated[
    bool, QueryParameter(name="deletedOnly", description="Only deleted messages.")
]
IntervalParam = Annotated[
    str | None, QueryParameter(description="hour or day (default: by range).")
]
