"""Channel management (bearer token): add, activate/deactivate, soft-delete, rejoin.

Each change is written to the database first (the source of truth), then mirrored into the
ingestors' KV bucket and announced on NATS (`archive_api.desired`). Without ADMIN_TOKEN these
endpoints answer 403 admin_disabled; with it, a missing or wrong token gets 401.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import structlog
from litestar import Request, Response, delete, patch, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, PathParameter

from archive_api import present
from archive_api.deps import Ctx, normalise_login
from archive_api.errors import (
    AdminDisabledError,
    ConflictError,
    InvalidParameterError,
    NotFoundError,
    UnauthorizedError,
)
from archive_api.queries import channels as cq
from archive_api.schemas import ChannelCreate, ChannelOut, ChannelPatch, ControlAccepted

log = structlog.get_logger("archive_api.routes.admin")

NameParam = Annotated[str, PathParameter(description="Channel login.")]


def require_admin(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Guard: 403 when no ADMIN_TOKEN is configured, 401 without the right bearer token."""
    ctx: Ctx = connection.app.state.ctx
    token = ctx.settings.admin_token
    if token is None:
        raise AdminDisabledError(
            "channel management is disabled: set ADMIN_TOKEN on the api to enable it"
        )
    header = connection.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise UnauthorizedError("Authorization: send `Authorization: Bearer <ADMIN_TOKEN>`")
    if not hmac.compare_digest(given.strip().encode(), token.reveal().encode()):
        raise UnauthorizedError("Authorization: the bearer token is not the admin token")


def channel_login(parameter: str, value: str) -> str:
    return normalise_login(parameter, value)


async def channel_out(ctx: Ctx, row: Any) -> ChannelOut:
    return present.channel(dict(row), await cq.message_count(ctx.pool, row["id"]))


ADMIN: dict[str, Any] = {
    "guards": [require_admin],
    "security": [{"bearer": []}],
    "tags": ["channel management"],
}
"""What every management route shares: the token guard and its OpenAPI security."""


@post(
    "/api/channels",
    summary="Add a channel to monitor",
    description="Creates it (201) or reactivates it (200); the ingestors join it.",
    status_code=201,
    **ADMIN,
)
async def add_channel(
    ctx: Ctx, request: Request[Any, Any, Any], data: Annotated[ChannelCreate, Body()]
) -> Response[ChannelOut]:
    login = channel_login("name", data.name)
    row, created = await cq.add(ctx.pool, login)
    await ctx.desired.activate(login)
    ctx.metrics.channel_changes.labels("add" if created else "activate").inc()
    log.info("channel_added", channel=login, created=created, client=client_of(request))
    return Response(await channel_out(ctx, row), status_code=201 if created else 200)


@patch(
    "/api/channels/{name:str}",
    summary="Activate or deactivate a channel",
    description='Body `{"isActive": bool}` (the seed\'s `is_active` works too).',
    **ADMIN,
)
async def update_channel(
    ctx: Ctx,
    request: Request[Any, Any, Any],
    name: NameParam,
    data: Annotated[ChannelPatch, Body()],
) -> ChannelOut:
    login = channel_login("name", name)
    active = data.is_active if data.is_active is not None else data.is_active_snake
    if active is None:
        raise InvalidParameterError("isActive", "is required (true or false)")
    row = await cq.set_active(ctx.pool, login, active)
    if row is None:
        raise NotFoundError(f"name: no channel named {login!r} in the archive")
    if active:
        await ctx.desired.activate(login)
    else:
        await ctx.desired.deactivate(login)
    ctx.metrics.channel_changes.labels("activate" if active else "deactivate").inc()
    log.info("channel_updated", channel=login, active=active, client=client_of(request))
    return await channel_out(ctx, row)


@delete(
    "/api/channels/{name:str}",
    summary="Stop monitoring a channel (soft delete: history kept)",
    status_code=200,
    **ADMIN,
)
async def delete_channel(ctx: Ctx, request: Request[Any, Any, Any], name: NameParam) -> ChannelOut:
    login = channel_login("name", name)
    row = await cq.set_active(ctx.pool, login, False)
    if row is None:
        raise NotFoundError(f"name: no channel named {login!r} in the archive")
    await ctx.desired.deactivate(login)
    ctx.metrics.channel_changes.labels("deactivate").inc()
    log.info("channel_deactivated", channel=login, client=client_of(request))
    return await channel_out(ctx, row)


@post(
    "/api/channels/{name:str}/rejoin",
    summary="Make the ingestors part and rejoin a channel",
    status_code=202,
    **ADMIN,
)
async def rejoin_channel(
    ctx: Ctx, request: Request[Any, Any, Any], name: NameParam
) -> ControlAccepted:
    login = channel_login("name", name)
    row = await cq.by_login(ctx.pool, login)
    if row is None:
        raise NotFoundError(f"name: no channel named {login!r} in the archive")
    if not row["is_active"]:
        raise ConflictError(f"name: {login!r} is not active; activate it first (PATCH)")
    await ctx.desired.rejoin(login)
    ctx.metrics.channel_changes.labels("rejoin").inc()
    log.info("channel_rejoin_requested", channel=login, client=client_of(request))
    return ControlAccepted(channel=login, action="rejoin", notified=True)


def client_of(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


ADMIN_HANDLERS = [add_channel, update_channel, delete_channel, rejoin_channel]
