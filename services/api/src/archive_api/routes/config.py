"""What the dashboard needs to know about its deployment: where the live feed is."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from archive_api.deps import Ctx
from archive_api.schemas import ClientConfig


def live_url(ctx: Ctx, request: Request[Any, Any, Any]) -> str:
    """LIVE_URL when set, else the gateway's port on the host the client reached us by: the
    browser then opens the feed on the machine it already talks to, whatever name it used."""
    if ctx.settings.live_url:
        return ctx.settings.live_url
    scheme = "wss" if request.url.scheme == "https" else "ws"
    host = request.url.hostname or "127.0.0.1"
    if ":" in host:  # an IPv6 literal needs its brackets back
        host = f"[{host}]"
    return f"{scheme}://{host}:{ctx.settings.gateway_port}/api/live"


class ConfigController(Controller):
    path = "/api/config"
    tags = ("dashboard",)

    @get(
        "/",
        summary="Dashboard configuration",
        description="`liveUrl`: the WebSocket URL of the live feed (LIVE_URL, or the gateway's "
        "port on this host). A relative URL is resolved against the page's origin.",
    )
    async def config(self, ctx: Ctx, request: Request[Any, Any, Any]) -> ClientConfig:
        return ClientConfig(live_url=live_url(ctx, request))
