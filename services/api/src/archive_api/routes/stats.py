"""The archive overview for the dashboard's Home page: totals, health, messages per hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

from litestar import Controller, get
from litestar.params import QueryParameter

from archive_api.deps import Ctx
from archive_api.queries import stats as sq
from archive_api.routes.channels import all_time_totals
from archive_api.schemas import HourBucket, Overview, TopChannel, TopUser

TOP_USERS_SAMPLE: Final = 5_000
"""Newest messages the overview's most active users are counted in."""


class StatsController(Controller):
    path = "/api/stats"
    tags = ("stats",)

    @get(
        "/",
        summary="Archive overview",
        description="Totals (messages, moderation actions, channels, users), the last `hours` "
        "hours per hour, the busiest channels, ingest lag and open coverage gaps. Cached for "
        "CACHE_TTL_S.",
    )
    async def overview(
        self,
        ctx: Ctx,
        hours: Annotated[int, QueryParameter(ge=1, le=720, description="1 to 720 (30 days).")] = 24,
    ) -> Overview:
        now = datetime.now(UTC)
        end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        start = end - timedelta(hours=hours)

        async def compute() -> Overview:
            pool = ctx.pool
            counts = await sq.overview_counts(pool)
            totals = await all_time_totals(ctx)
            buckets = await sq.series(pool, None, start, end, "hour")
            top = await sq.top_channels(pool, start, end, 10)
            chatters = await sq.top_recent_users(pool, TOP_USERS_SAMPLE, 10)
            day = [b for b in buckets if b["start"] >= end - timedelta(hours=24)]
            newest = counts["newest"]
            return Overview(
                messages_total=sum(t[0] for t in totals.values()),
                mod_actions_total=sum(t[2] for t in totals.values()),
                channels_total=counts["channels_total"],
                channels_active=counts["channels_active"],
                users_tracked=counts["users_tracked"],
                messages_last_day=sum(int(b["messages"]) for b in day),
                mod_actions_last_day=sum(int(b["mod_actions"]) for b in day),
                newest_message_at=newest,
                ingest_lag_seconds=(
                    max(0.0, (datetime.now(UTC) - newest).total_seconds()) if newest else None
                ),
                open_gaps=counts["open_gaps"],
                hours=hours,
                series=[
                    HourBucket(
                        start=b["start"],
                        messages=b["messages"],
                        usernotices=b["usernotices"],
                        mod_actions=b["mod_actions"],
                    )
                    for b in buckets
                ],
                top_channels=[TopChannel(channel=r["login"], messages=r["messages"]) for r in top],
                top_users=[
                    TopUser(user_id=r["user_id"], login=r["login"], messages=r["messages"])
                    for r in chatters
                ],
                top_users_sample=TOP_USERS_SAMPLE,
            )

        return await ctx.cache.get(f"overview:{hours}:{int(end.timestamp())}", Overview, compute)
