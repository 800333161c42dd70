"""`archive-api`: serve the REST api (settings from the environment, see --help)."""

from __future__ import annotations

import argparse
import sys

import uvloop

from archive_api import app
from archive_api.settings import ApiSettings
from twitch_archive import logging
from twitch_archive.settings import load_or_exit

DESCRIPTION = """\
Archive REST api: every endpoint of the seed plan under /api (messages, search, users,
moderation, channels, stats), channel management with a bearer token, OpenAPI schema and docs
UI at /api/schema, /healthz, /readyz and /metrics. Redis holds the per-IP rate limit and the
stats cache (the api fails open without it). docs/api.md describes every endpoint.

Configured by environment variables (all optional, local defaults): DATABASE_URL, NATS_URL,
NATS_NAMESPACE, REDIS_URL, REDIS_PREFIX, API_HOST, API_PORT, ADMIN_TOKEN,
RATE_LIMIT_PER_MINUTE, CACHE_TTL_S, CORS_ORIGINS, TOTAL_COUNT_CAP, MAX_OFFSET, WEB_DIST,
FORWARDED_ALLOW_IPS, DB_POOL_MIN, DB_POOL_MAX, STATEMENT_TIMEOUT_MS,
EXPORT_STATEMENT_TIMEOUT_MS, REDIS_TIMEOUT_S, REDIS_RETRY_S, LOG_LEVEL. Each is described in
docs/configuration.md.
"""


def main(argv: list[str] | None = None) -> None:
    """Parse the (empty) command line, load settings, configure logging, serve."""
    parser = argparse.ArgumentParser(
        prog="archive-api",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv)
    settings = load_or_exit(ApiSettings)
    logging.configure("api", settings.log_level)
    sys.exit(uvloop.run(app.run(settings)))


if __name__ == "__main__":
    main()
