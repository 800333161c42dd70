"""Property-based requests over the OpenAPI schema (schemathesis): no input gets a 5xx."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

MAX_EXAMPLES = 15
"""Per operation and mode: about 20 operations x 2 modes x 15 keeps the run under a minute."""

AUTH = {"Authorization": "Bearer s3cret-admin-token"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def api_url(seed, make_settings) -> Iterator[str]:
    """A real `python -m archive_api` process on the seeded database."""
    settings = make_settings()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_PREFIX": settings.redis_prefix,
        "NATS_URL": settings.nats_url,
        "NATS_NAMESPACE": settings.nats_namespace,
        "ADMIN_TOKEN": "s3cret-admin-token",
        "API_PORT": str(port),
        "RATE_LIMIT_PER_MINUTE": "0",
        "LOG_LEVEL": "warning",
        "DB_POOL_MAX": "4",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive_api"], env=env, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(120)
def test_no_generated_request_gets_a_server_error(api_url):
    """Valid and invalid requests for every operation of the schema never get a 5xx."""
    schema = schemathesis.openapi.from_url(f"{api_url}/api/schema/openapi.json")
    failures: list[str] = []
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case) -> None:
                nonlocal count
                response = case.call(base_url=api_url, headers=AUTH, timeout=10)
                count += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query} {case.body!r}"
                        f" -> {response.status_code} {response.text[:200]}"
                    )

            try:
                exercise()
            except Unsatisfiable:
                continue  # nothing of this operation can be made invalid (e.g. free strings)
    assert count > 200
    assert not failures, "\n".join(failures[:20])
