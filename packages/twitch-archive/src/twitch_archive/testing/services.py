"""How a test gets each real server: explicit URL, else the local default port, else Docker.

When none answers, the test is skipped with the command that starts the server, except under
`CI=true`, where it fails: CI can never go green by skipping. Each server is resolved once.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import warnings
from collections.abc import Callable, Mapping
from typing import Final, Literal, NoReturn
from urllib.parse import SplitResult, urlsplit, urlunsplit

import pytest

Kind = Literal["postgres", "nats", "redis"]

START_HINT: Final = "start it with `make services`"
PROBE_TIMEOUT_S: Final = 1.0
DOCKER_INFO_TIMEOUT_S: Final = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class Server:
    """One kind of server: where to look for it and how to start it in a container."""

    kind: Kind
    label: str
    env: tuple[str, ...]
    """Variables holding an explicit URL, first set wins."""
    default_url: str
    """The local default; its host and port are probed."""
    image: str
    port: int
    """The port the server listens on inside its container."""
    command: str | None
    container_env: Mapping[str, str]
    ready_log: str
    ready_times: int
    """How often `ready_log` appears before the server is up (postgres restarts after init)."""
    url_template: str
    """The URL of a started container, with `{host}` and `{port}`."""


SERVERS: Final[Mapping[Kind, Server]] = {
    "postgres": Server(
        kind="postgres",
        label="PostgreSQL",
        env=("TEST_DATABASE_URL", "DATABASE_URL"),
        default_url="postgresql://postgres@127.0.0.1:5432/postgres",
        image="postgres:15",
        port=5432,
        command=None,
        container_env={"POSTGRES_HOST_AUTH_METHOD": "trust"},
        ready_log="database system is ready to accept connections",
        ready_times=2,
        url_template="postgresql://postgres@{host}:{port}/postgres",
    ),
    "nats": Server(
        kind="nats",
        label="NATS",
        env=("NATS_URL",),
        default_url="nats://127.0.0.1:4222",
        image="nats:2",
        port=4222,
        command="-js",
        container_env={},
        ready_log="Server is ready",
        ready_times=1,
        url_template="nats://{host}:{port}",
    ),
    "redis": Server(
        kind="redis",
        label="Redis",
        env=("REDIS_URL",),
        default_url="redis://127.0.0.1:6379/0",
        image="redis:7",
        port=6379,
        command=None,
        container_env={},
        ready_log="Ready to accept connections",
        ready_times=1,
        url_template="redis://{host}:{port}/0",
    ),
}


class ServerUnavailableError(Exception):
    """No server of a kind could be found or started; the message says what was tried."""


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this is a CI run (`CI=true`), where a missing server is a failure, not a skip."""
    return environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def port_answers(host: str, port: int, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether something accepts TCP connections at host:port within `timeout` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def docker_answers() -> bool:
    """Whether a Docker engine answers (`docker info` exits 0)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argv, nothing from user input
            [docker, "info"], capture_output=True, timeout=DOCKER_INFO_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def start_container(server: Server) -> tuple[str, Callable[[], None]]:
    """Start `server` in a throwaway container; returns its URL and how to stop it."""
    # Imported here: testcontainers is slow to import and only needed without local servers.
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy  # noqa: PLC0415

    container = DockerContainer(server.image).with_exposed_ports(server.port)
    for key, value in server.container_env.items():
        container = container.with_env(key, value)
    if server.command:
        container = container.with_command(server.command)
    container = container.waiting_for(
        LogMessageWaitStrategy(server.ready_log, times=server.ready_times)
    )
    # testcontainers deprecates its own helpers from release to release; with warnings as errors
    # that would turn a working fallback into a failure.
    with warnings.catch_warnings(action="ignore", category=DeprecationWarning):
        container.start()
    host = container.get_container_host_ip()
    port = container.get_exposed_port(server.port)
    return server.url_template.format(host=host, port=port), container.stop


def redact(url: str) -> str:
    """`url` with any password replaced by `***`, fit for a skip message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def host_port(url: str, default_port: int) -> tuple[str, int] | None:
    """The TCP address a URL points at, or None when it names none (a Unix socket)."""
    parts: SplitResult = urlsplit(url.split(",", 1)[0])  # a NATS URL may list several servers
    if not parts.hostname:
        return None
    return parts.hostname, parts.port or default_port


class Servers:
    """Resolves each kind of server once per session and stops any container it started."""

    def __init__(
        self,
        environ: Mapping[str, str] = os.environ,
        *,
        probe: Callable[[str, int], bool] = port_answers,
        docker: Callable[[], bool] = docker_answers,
        start: Callable[[Server], tuple[str, Callable[[], None]]] = start_container,
    ) -> None:
        self._environ = environ
        self._probe = probe
        self._docker = docker
        self._start = start
        self._urls: dict[Kind, str | ServerUnavailableError] = {}
        self._stops: list[Callable[[], None]] = []
        self._docker_ok: bool | None = None

    def url(self, kind: Kind) -> str:
        """The URL of a server of `kind`; raises ServerUnavailableError (and remembers it)."""
        if kind not in self._urls:
            try:
                self._urls[kind] = self._resolve(SERVERS[kind])
            except ServerUnavailableError as exc:
                self._urls[kind] = exc
        found = self._urls[kind]
        if isinstance(found, ServerUnavailableError):
            raise found
        return found

    def require(self, kind: Kind) -> str:
        """The URL of a server of `kind`, else skip the test (fail it under `CI=true`)."""
        try:
            return self.url(kind)
        except ServerUnavailableError as exc:
            reason = str(exc)
        # Outside the except block, so the report shows the reason and not a chained traceback.
        return _give_up(reason, ci=in_ci(self._environ))

    def close(self) -> None:
        """Stop the containers this session started, newest first."""
        while self._stops:
            self._stops.pop()()

    def _resolve(self, server: Server) -> str:
        for name in server.env:
            url = self._environ.get(name, "").strip()
            if url:
                address = host_port(url, server.port)
                if address is None or self._probe(*address):
                    return url
                raise ServerUnavailableError(
                    f"{server.label} not available: {name}={redact(url)} does not answer; "
                    f"{START_HINT}"
                )
        address = host_port(server.default_url, server.port)
        if address is not None and self._probe(*address):
            return server.default_url
        if self._docker_ok is None:
            self._docker_ok = self._docker()
        if self._docker_ok:
            url, stop = self._start(server)
            self._stops.append(stop)
            return url
        raise ServerUnavailableError(
            f"{server.label} not available: {START_HINT} (nothing answers at "
            f"{redact(server.default_url)}, {' / '.join(server.env)} unset, no Docker engine)"
        )


def _give_up(message: str, *, ci: bool) -> NoReturn:
    if ci:
        pytest.fail(f"{message} (CI=true: a missing server fails the run)", pytrace=False)
    pytest.skip(message)
