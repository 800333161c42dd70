"""`archive-live-gateway`: run one gateway replica (settings from the environment, see --help)."""

from __future__ import annotations

from archive_live_gateway import app
from archive_live_gateway.settings import GatewaySettings
from twitch_archive.entrypoint import run_service

DESCRIPTION = """\
Archive live gateway: serves the WebSocket feed GET /api/live on GATEWAY_HOST:GATEWAY_PORT
(127.0.0.1:8001). Clients send {"action": "subscribe", "channels": ["a", "b"]} and receive
{"type": "message" | "usernotice" | "mod_action" | "delete", "data": {...}} for those channels.
The gateway subscribes to NATS only for watched channels; slow clients are closed with 4008.
Also serves /healthz, /readyz and /metrics. SIGTERM closes clients with 1001 and drains NATS.
Replicas share nothing: run as many as you like behind a load balancer.

Configured by environment variables (all optional, local defaults): NATS_URL, NATS_NAMESPACE,
GATEWAY_HOST, GATEWAY_PORT, ALLOWED_ORIGINS, ALLOW_FIREHOSE, MAX_SUBSCRIPTIONS,
CLIENT_FRAMES_PER_SECOND, SEND_QUEUE_MAX, FLUSH_INTERVAL_MS, SEND_BUFFER_BYTES, HEARTBEAT_S,
MAX_FRAME_BYTES, NATS_PENDING_MSGS, NATS_PENDING_BYTES, SHUTDOWN_TIMEOUT_S, LOG_LEVEL. Each is
described in docs/configuration.md; the protocol in services/live-gateway/README.md.
"""


def main(argv: list[str] | None = None) -> None:
    """`--help`, settings from the environment, logging, then run until signalled."""
    run_service(
        prog="archive-live-gateway",
        service="live-gateway",
        description=DESCRIPTION,
        settings_cls=GatewaySettings,
        serve=app.run,
        argv=argv,
    )


if __name__ == "__main__":
    main()
