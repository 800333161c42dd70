"""Messages: list with filters, full-text search, one message, its context, and exports."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final, Literal, cast

import asyncpg
import msgspec
import structlog
from litestar import Controller, Request, get
from litestar.params import PathParameter, QueryParameter
from litestar.response import Stream

from archive_api import present
from archive_api.deps import Ctx, resolve_user
from archive_api.errors import InvalidParameterError, NotFoundError, UnavailableError
from archive_api.pagination import (
    DEFAULT_LIMIT,
    Order,
    capped_total,
    check_limit,
    check_offset,
    decode_cursor,
    encode_cursor,
    from_micros,
    time_range,
    to_micros,
)
from archive_api.params import (
    ChannelParam,
    CursorParam,
    DeletedOnlyParam,
    IncludeDeletedParam,
    LimitParam,
    OffsetParam,
    OrderParam,
    SinceParam,
    UntilParam,
    UserParam,
)
from archive_api.queries import messages as q
from archive_api.schemas import MessageContext, MessagePage
from twitch_archive.views import MessageView

log = structlog.get_logger("archive_api.routes.messages")

Format = Literal["json", "ndjson", "csv"]
MAX_QUERY_CHARS: Final = 200
MAX_CONTEXT: Final = 100
EXPORT_FETCH: Final = 1000
_json = msgspec.json.Encoder()

FormatParam = Annotated[
    Format | None,
    QueryParameter(
        description="`json` (a page), or `ndjson` / `csv`: stream every matching message "
        "(`limit` and `offset` apply to JSON pages only). The Accept header "
        "(application/x-ndjson, text/csv) chooses the same when `format` is absent."
    ),
]


def requested_format(request: Request[Any, Any, Any], fmt: Format | None) -> Format:
    if fmt is not None:
        return fmt
    accept = request.headers.get("accept", "")
    if "ndjson" in accept:
        return "ndjson"
    if "text/csv" in accept:
        return "csv"
    return "json"


def deleted_mode(include_deleted: bool, deleted_only: bool) -> q.Deleted:
    if deleted_only:
        return "only"
    return "include" if include_deleted else "exclude"


def check_query(parameter: str, text: str | None, required: bool) -> str | None:
    if text is None or not text.strip():
        if required:
            raise InvalidParameterError(parameter, "is required: the words to search for")
        return None
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidParameterError(parameter, f"at most {MAX_QUERY_CHARS} characters")
    if "\x00" in text:
        raise InvalidParameterError(parameter, "must not contain NUL characters")
    return text


def message_filter(
    *,
    channel_id: int | None,
    user_id: str | None,
    since: str | None,
    until: str | None,
    include_deleted: bool,
    deleted_only: bool,
    search: str | None,
) -> q.MessageFilter:
    """The filter of a message listing, from its query parameters (validated here)."""
    start, end = time_range(since, until)
    return q.MessageFilter(
        channel_id=channel_id,
        user_id=user_id,
        since=start,
        until=end,
        deleted=deleted_mode(include_deleted, deleted_only),
        query=check_query("search", search, required=False),
    )


def cursor_kind(order: Order, search: bool) -> str:
    return ("ms" if search else "m") + ("d" if order == "desc" else "a")


async def message_page(
    ctx: Ctx,
    request: Request[Any, Any, Any],
    f: q.MessageFilter,
    *,
    order: Order,
    limit: int,
    offset: int,
    cursor: str | None,
    fmt: Format | None,
    query_parameter: str = "search",
) -> MessagePage:
    """The shared body of every message listing: page, search, total, cursor, or an export."""
    check_offset(offset, ctx.settings.max_offset, cursor)
    searching = f.query is not None
    kind = cursor_kind(order, searching)
    after: q.Key | None = None
    carried: tuple[int, bool] | None = None
    if cursor:
        micros, message_id, carried_total, carried_exact = decode_cursor(
            cursor, kind, (int, str, int, int)
        )
        after = (from_micros(micros), message_id)
        carried = (carried_total, bool(carried_exact))
    output = requested_format(request, fmt)
    pool = ctx.pool
    pattern = None
    if searching:
        assert f.query is not None
        query = f.query
        words = await ctx.words.get(("lexemes", query), lambda: q.lexemes(pool, query))
        if not words:
            raise InvalidParameterError(
                query_parameter, "contains no searchable words (only punctuation or negations)"
            )
        pattern = q.highlighter(words)
    if output != "json":
        return cast(MessagePage, await export(ctx, f, order, after, output, pattern))
    check_limit(limit)
    if searching:
        bounds = await ctx.bounds.get(pool)
        if bounds is None:
            rows: list[asyncpg.Record] = []
        else:
            per_hour = await ctx.rates.get(
                f.channel_id, lambda: q.hourly_rate(pool, f.channel_id, bounds[1])
            )
            rows, windows = await q.search(
                pool, f, order, after, offset + limit + 1, bounds, per_hour
            )
            ctx.metrics.search_windows.observe(windows)
            rows = rows[offset:]
    else:
        rows = await q.page(ctx.pages, f, order, after, limit + 1, offset)
    has_more = len(rows) > limit
    rows = rows[:limit]
    cap = ctx.settings.total_count_cap
    if carried is not None:
        total, exact = carried  # counted for the first page; deeper pages never count again
    elif not has_more:
        total, exact = offset + len(rows), True
    else:
        counter = pool if searching else ctx.pages  # a word's count needs a custom plan
        counted = await ctx.counts.get(("m", f), lambda: q.count_capped(counter, f, cap))
        total, exact = capped_total(counted, cap)
    refs = await ctx.channels.refs(pool, {row["channel_id"] for row in rows})
    out = [present.message(row, refs[row["channel_id"]], pattern) for row in rows]
    next_cursor = None
    if has_more and out:
        last = rows[-1]
        next_cursor = encode_cursor(kind, to_micros(last["sent_at"]), last["id"], total, int(exact))
    return MessagePage(
        messages=out, total=total, total_is_exact=exact, has_more=has_more, next_cursor=next_cursor
    )


async def export(
    ctx: Ctx,
    f: q.MessageFilter,
    order: Order,
    after: q.Key | None,
    output: Format,
    pattern: Any,
) -> Stream:
    """Stream every matching message as NDJSON or CSV from a server-side cursor: memory stays
    bounded whatever the size (EXPORT_FETCH rows at a time)."""
    if ctx.exports.locked():
        raise UnavailableError("too many exports are running on this replica; retry shortly")
    sql, args = q.export_sql(f, order, after, None)
    pool = ctx.pool
    metrics = ctx.metrics.export_rows.labels(output)
    timeout_ms = ctx.settings.export_statement_timeout_ms

    async def lines() -> AsyncIterator[bytes]:
        async with ctx.exports, pool.acquire() as conn, conn.transaction(readonly=True):
            await conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            if output == "csv":
                writer.writerow(present.CSV_HEADER)
            chunk: list[bytes] = []
            count = 0
            async for row in conn.cursor(sql, *args, prefetch=EXPORT_FETCH):
                channel = await ctx.channels.ref(pool, row["channel_id"])
                item = present.message(row, channel, pattern)
                if output == "ndjson":
                    chunk.append(_json.encode(item) + b"\n")
                else:
                    writer.writerow(present.csv_row(item, _json.encode))
                count += 1
                if count % EXPORT_FETCH == 0:
                    yield flush(chunk, buffer)
                    metrics.inc(EXPORT_FETCH)
            yield flush(chunk, buffer)
            metrics.inc(count % EXPORT_FETCH)
            log.info("export_finished", rows=count, format=output)

    media = "application/x-ndjson" if output == "ndjson" else "text/csv; charset=utf-8"
    headers = {"Content-Disposition": f'attachment; filename="messages.{output}"'}
    return ExportStream(lines(), media_type=media, headers=headers)


class ExportStream(Stream):
    """A Stream whose own media type wins: Litestar 2.25 lets the handler's default
    (application/json) override the one given to a returned Stream."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["media_type"] = self.media_type
        return super().to_asgi_response(*args, **kwargs)


def flush(chunk: list[bytes], buffer: io.StringIO) -> bytes:
    if chunk:
        data = b"".join(chunk)
        chunk.clear()
        return data
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


class MessageController(Controller):
    path = "/api/messages"
    tags = ("messages",)

    @get(
        "/",
        summary="List messages",
        description="Messages newest first (or `order=asc`), filtered by channel, user, time, "
        "deletion and words. `{messages, total, totalIsExact, hasMore, nextCursor}`, or an "
        "NDJSON/CSV export stream with `format=`.",
    )
    async def list_messages(
        self,
        ctx: Ctx,
        request: Request[Any, Any, Any],
        channel: ChannelParam = None,
        user: UserParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        since: SinceParam = None,
        until: UntilParam = None,
        search: Annotated[
            str | None,
            QueryParameter(description="Words to match (same syntax as `q` of /search)."),
        ] = None,
        include_deleted: IncludeDeletedParam = False,
        deleted_only: DeletedOnlyParam = False,
        order: OrderParam = "desc",
        cursor: CursorParam = None,
        format: FormatParam = None,
    ) -> MessagePage:
        pool = ctx.pool
        channel_id = (await ctx.channels.resolve(pool, "channel", channel)).id if channel else None
        user_id = (await resolve_user(pool, "user", user)).id if user else None
        f = message_filter(
            channel_id=channel_id,
            user_id=user_id,
            since=since,
            until=until,
            include_deleted=include_deleted,
            deleted_only=deleted_only,
            search=search,
        )
        return await message_page(
            ctx, request, f, order=order, limit=limit, offset=offset, cursor=cursor, fmt=format
        )

    @get(
        "/search",
        summary="Full-text search",
        description="Messages containing the words of `q` (any language: words, not stems; "
        '`"a phrase"`, `-word` to exclude, `or`), newest first, with the matched words in '
        "`highlights`.",
    )
    async def search_messages(
        self,
        ctx: Ctx,
        request: Request[Any, Any, Any],
        q_: Annotated[
            str | None, QueryParameter(name="q", description="The words to search for (required).")
        ] = None,
        channel: ChannelParam = None,
        user: UserParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        since: SinceParam = None,
        until: UntilParam = None,
        include_deleted: IncludeDeletedParam = False,
        order: OrderParam = "desc",
        cursor: CursorParam = None,
        format: FormatParam = None,
    ) -> MessagePage:
        text = check_query("q", q_, required=True)
        start, end = time_range(since, until)
        pool = ctx.pool
        channel_id = (await ctx.channels.resolve(pool, "channel", channel)).id if channel else None
        user_id = (await resolve_user(pool, "user", user)).id if user else None
        f = q.MessageFilter(
            channel_id=channel_id,
            user_id=user_id,
            since=start,
            until=end,
            deleted=deleted_mode(include_deleted, False),
            query=text,
        )
        return await message_page(
            ctx,
            request,
            f,
            order=order,
            limit=limit,
            offset=offset,
            cursor=cursor,
            fmt=format,
            query_parameter="q",
        )

    @get("/{message_id:str}", summary="One message")
    async def get_message(
        self, ctx: Ctx, message_id: Annotated[str, PathParameter(description="Message id.")]
    ) -> MessageView:
        row = await q.by_id(ctx.pages, check_message_id(message_id))
        if row is None:
            raise NotFoundError(f"id: no message {message_id[:80]!r}")
        return present.message(row, await ctx.channels.ref(ctx.pool, row["channel_id"]))

    @get(
        "/{message_id:str}/context",
        summary="A message with the messages around it",
        description="The `before` messages just before it in its channel and the `after` "
        "messages just after it (deleted ones included unless includeDeleted=false): what a "
        "moderator reads to judge a ban.",
    )
    async def get_context(
        self,
        ctx: Ctx,
        message_id: Annotated[str, PathParameter(description="Message id.")],
        before: Annotated[int, QueryParameter(ge=0, le=MAX_CONTEXT, description="0 to 100.")] = 10,
        after: Annotated[int, QueryParameter(ge=0, le=MAX_CONTEXT, description="0 to 100.")] = 10,
        include_deleted: IncludeDeletedParam = True,
    ) -> MessageContext:
        pages = ctx.pages
        row = await q.by_id(pages, check_message_id(message_id))
        if row is None:
            raise NotFoundError(f"id: no message {message_id[:80]!r}")
        key = (row["sent_at"], row["id"])
        deleted: q.Deleted = "include" if include_deleted else "exclude"
        earlier, later = await q.around(pages, row["channel_id"], key, before, after, deleted)
        channel = await ctx.channels.ref(ctx.pool, row["channel_id"])
        return MessageContext(
            message=present.message(row, channel),
            before=[present.message(r, channel) for r in earlier],
            after=[present.message(r, channel) for r in later],
        )


def check_message_id(message_id: str) -> str:
    if not 1 <= len(message_id) <= 128 or "\x00" in message_id:
        raise InvalidParameterError("id", "must be 1 to 128 characters")
    return message_id
