# syntax=docker/dockerfile:1
# One image per Python service of the archive, all from this file (docs/operations.md).
#
#   docker build -f deploy/docker/python.Dockerfile --build-arg SERVICE=writer -t archive-writer .
#   docker build -f deploy/docker/python.Dockerfile --target cli -t archive-cli .
#
# SERVICE (ingestor, writer, api or live-gateway) picks the workspace package `archive-<SERVICE>`
# and the console script the image runs; every image also has the `twitch-archive` command-line
# tool (migrate, simulate, ...), a dependency of every service. The `cli` target is that tool
# alone plus PostgreSQL 15's client programs, for `twitch-archive migrate`, `backup` and
# `simulate`. The build context is the repository root (see .dockerignore).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ------------------------------------------------------------------ build: the venv, from uv.lock
FROM ${PYTHON_IMAGE} AS build-base
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
# Bytecode compiled once at build time; a copied (not hard-linked) venv at the path the runtime
# stage uses, on the base image's own interpreter: the venv's symlinks stay valid there.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The workspace's metadata first: the third-party layer below is rebuilt only when it changes.
COPY pyproject.toml uv.lock README.md ./
COPY packages/twitch-archive/pyproject.toml packages/twitch-archive/
COPY services/ingestor/pyproject.toml services/ingestor/README.md services/ingestor/
COPY services/writer/pyproject.toml services/writer/README.md services/writer/
COPY services/api/pyproject.toml services/api/README.md services/api/
COPY services/live-gateway/pyproject.toml services/live-gateway/README.md services/live-gateway/

FROM build-base AS build-service
ARG SERVICE
RUN case "${SERVICE}" in \
      ingestor|writer|api|live-gateway) ;; \
      *) echo "SERVICE must be ingestor, writer, api or live-gateway, not '${SERVICE}'" >&2; exit 1 ;; \
    esac
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "archive-${SERVICE}"
COPY packages/twitch-archive/src packages/twitch-archive/src
COPY services/ services/
# Non-editable: the workspace packages are installed into the venv, which needs no source tree.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "archive-${SERVICE}"

FROM build-base AS build-cli
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package twitch-archive
COPY packages/twitch-archive/src packages/twitch-archive/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package twitch-archive

# ------------------------------------------------------------------ runtime: the venv and schema/
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 archive \
    && useradd --system --uid 10001 --gid archive --no-create-home --no-log-init \
       --home-dir /nonexistent --shell /usr/sbin/nologin archive
# Services bind every interface in a container (API_HOST and GATEWAY_HOST default to loopback
# for local runs; METRICS_HOST already defaults to 0.0.0.0). Logs are JSON: standard error is
# not a terminal in a container (twitch_archive.logging), so never give these containers a TTY.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONFAULTHANDLER=1 \
    API_HOST=0.0.0.0 \
    GATEWAY_HOST=0.0.0.0 \
    METRICS_HOST=0.0.0.0 \
    SIMULATOR_HOST=0.0.0.0 \
    SCHEMA_DIR=/app/schema
WORKDIR /app
COPY schema/ /app/schema/
STOPSIGNAL SIGTERM

# ------------------------------------------------------------------ cli: migrate, backup, simulate
FROM runtime AS cli
# pg_dump and pg_restore of the server's major version, for `twitch-archive backup|restore`.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o archive -g archive -m 0750 /backups
COPY --from=build-cli /app/.venv /app/.venv
LABEL org.opencontainers.image.title="twitch-archive" \
      org.opencontainers.image.description="The Twitch chat archive's command-line tool"
USER 10001:10001
# A tool image: no server of its own, so no HEALTHCHECK (the compose file gives the simulator one).
CMD ["twitch-archive", "--help"]

# ------------------------------------------------------------------ service (the default target)
FROM runtime AS service
ARG SERVICE
ENV ARCHIVE_SERVICE=${SERVICE}
COPY --from=build-service /app/.venv /app/.venv
LABEL org.opencontainers.image.title="archive-${SERVICE}" \
      org.opencontainers.image.description="A service of the Twitch chat archive"
USER 10001:10001
# /healthz answers while the process is alive, on the port the service's own variable names
# (docs/configuration.md), read when the check runs so a changed port is followed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; var, default = {'api': ('API_PORT', '8000'), 'live-gateway': ('GATEWAY_PORT', '8001'), 'ingestor': ('METRICS_PORT', '9101'), 'writer': ('METRICS_PORT', '9102')}[os.environ['ARCHIVE_SERVICE']]; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(var) or default}/healthz', timeout=4)"]
# The console script of the service, e.g. `archive-writer`, as `make run` starts it (exec: the
# service is PID 1 and gets SIGTERM itself).
CMD ["/bin/sh", "-c", "exec \"archive-${ARCHIVE_SERVICE}\""]
