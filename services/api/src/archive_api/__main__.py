"""`archive-api`: serve the REST api (settings from the environment, see --help)."""

from __future__ import annotations

from archive_api import app
from archive_api.settings import ApiSettings
from twitch_archive.entrypoint import run_service

DESCRIPTION = """\
Archive REST api: every endpoint of the seed plan under /api (messages, search, users,
moderation, channels, stats), channel management with a bearer token, OpenAPI schema and docs
UI at /api/schema, /healthz, /readyz and /metrics. Redis holds the per-IP rate limit and the
stats cache (the api fails open without it). docs/api.md describes every endpoint.

Configured by environment variables (all optional, local defaults): DATABASE_URL, NATS_URL,
NATS_NAMESPACE, NATS_REPLICAS, REDIS_URL, REDIS_PREFIX, API_HOST, API_PORT, ADMIN_TOKEN,
RATE_LIMIT_PER_MINUTE, CACHE_TTL_S, CORS_ORIGINS, TOTAL_COUNT_CAP, MAX_OFFSET, WEB_DIST,
LIVE_URL, GATEWAY_PORT, FORWARDED_ALLOW_IPS, DB_POOL_MIN, DB_POOL_MAX, STATEMENT_TIMEOUT_MS,
EXPORT_STATEMENT_TIMEOUT_MS, REDIS_TIMEOUT_S, REDIS_RETRY_S, LOG_LEVEL. Each is described in
docs/configuration.md.
"""


def main(argv: list[str] | None = None) -> None:
    """`--help`, settings from the environment, logging, then run until signalled."""
    run_service(
        prog="archive-api",
        service="api",
        description=DESCRIPTION,
        settings_cls=ApiSettings,
        serve=app.run,
        argv=argv,
    )


if __name__ == "__main__":
    main()
