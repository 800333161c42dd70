"""The Dockerfiles: lint clean, built from files the build context really holds, non-root, and
with health checks that probe each service's own /healthz."""

from __future__ import annotations

import ast
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import msgspec
import pytest

from archive_api.settings import ApiSettings
from archive_ingestor.settings import IngestorSettings
from archive_live_gateway.settings import GatewaySettings
from archive_writer.settings import WriterSettings
from twitch_archive.simulator.settings import SimulatorSettings

ROOT: Final = Path(__file__).resolve().parents[3]
DOCKERFILES: Final = sorted((ROOT / "deploy" / "docker").glob("*.Dockerfile"))
SETTINGS: Final = [
    ApiSettings,
    GatewaySettings,
    IngestorSettings,
    WriterSettings,
    SimulatorSettings,
]
"""Every process the Python images run, by its settings."""
HEALTH_PORTS: Final = {
    "api": (ApiSettings, "api_port"),
    "live-gateway": (GatewaySettings, "gateway_port"),
    "ingestor": (IngestorSettings, "metrics_port"),
    "writer": (WriterSettings, "metrics_port"),
}
"""Service -> the setting whose port serves /healthz."""
HEAVY: Final = [
    ".git/HEAD",
    ".venv/bin/python",
    ".state/postgres/PG_VERSION",
    "web/node_modules/react/package.json",
    "bench/node_modules/tmi.js/package.json",
    "web/dist/index.html",
    "bench/.data/messages.csv",
    ".env",
    "services/api/tests/unit/test_app.py",
    "packages/twitch-archive/src/twitch_archive/__pycache__/cli.cpython-311.pyc",
]
"""Paths the build context must leave out: large, local, secret, or of no use in an image."""


# ---------------------------------------------------------------------------- .dockerignore


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: Go's filepath.Match (`*`, `?`, `[...]`) plus `**`,
    which matches any number of folders."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out.append(pattern[i : end + 1])
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` (relative to the context) out of the build context: the last
    pattern matching the path or one of its parent folders decides; `!` re-includes."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        regex = _pattern_regex(raw.removeprefix("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


@pytest.fixture(scope="module")
def ignore_patterns() -> list[str]:
    """The patterns of the root .dockerignore, in order."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("path", HEAVY)
def test_the_build_context_leaves_out_heavy_and_secret_files(
    path: str, ignore_patterns: list[str]
) -> None:
    """.dockerignore keeps state, environments, node_modules, build output and .env out."""
    assert dockerignored(path, ignore_patterns)


def test_the_ignore_matcher_follows_docker() -> None:
    """The matcher this file uses reads patterns as Docker does (a check of the check)."""
    assert dockerignored("a/b/c.txt", ["a"])
    assert dockerignored("x/node_modules/y", ["**/node_modules"])
    assert not dockerignored(".env.example", [".env.*", "!.env.example"])
    assert not dockerignored("services/api/src/x.py", ["services/*/tests"])
    assert not dockerignored("web/src/main.tsx", ["web/dist"])


def _copy_sources(instruction: Any) -> list[str]:
    words = [w for w in instruction.value.split() if not w.startswith("--")]
    return [w.rstrip("/") for w in words[:-1]]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_copied_path_is_in_the_build_context(
    dockerfile: Path, ignore_patterns: list[str], request: pytest.FixtureRequest
) -> None:
    """What a Dockerfile COPYs from the context exists and .dockerignore lets it through."""
    parsed = request.getfixturevalue(f"{dockerfile.stem}_dockerfile")
    copied = [
        source
        for stage in parsed.stages
        for instruction in stage.all("COPY")
        if "--from=" not in instruction.value
        for source in _copy_sources(instruction)
    ]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), f"{dockerfile.name} copies missing {source}"
        assert not dockerignored(source, ignore_patterns), f"{source} is dockerignored"
        if (ROOT / source).is_dir():
            assert _first_kept_file(ROOT / source, ignore_patterns), (
                f"{source}: .dockerignore leaves nothing of it"
            )


def _first_kept_file(folder: Path, patterns: list[str]) -> Path | None:
    """A file under `folder` that reaches the build context (ignored folders are not walked)."""
    for current, folders, files in os.walk(folder):
        here = Path(current)
        folders[:] = [
            f for f in folders if not dockerignored(str((here / f).relative_to(ROOT)), patterns)
        ]
        for name in files:
            if not dockerignored(str((here / name).relative_to(ROOT)), patterns):
                return here / name
    return None


# ---------------------------------------------------------------------------- hadolint


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfiles_lint_clean(dockerfile: Path, hadolint: Path) -> None:
    """hadolint finds nothing, not even an info-level remark, in any Dockerfile."""
    done = subprocess.run(
        [str(hadolint), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_reports_a_bad_dockerfile(hadolint: Path, tmp_path: Path) -> None:
    """The linter really lints: an untagged image and an unpinned apt install are reported."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install curl\n")
    done = subprocess.run(
        [str(hadolint), "--no-color", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "DL3006" in done.stdout


# ---------------------------------------------------------------------------- the Python image


def test_the_service_argument_covers_every_service(
    python_dockerfile: Any, compose_file: dict[str, Any]
) -> None:
    """SERVICE accepts exactly the service folders, and compose builds each of them."""
    check = next(
        run.value
        for run in python_dockerfile.stage("build-service").all("RUN")
        if "case" in run.value
    )
    accepted = set(re.search(r"in (\S+)\)", check).group(1).split("|"))
    folders = {p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml")}
    assert accepted == folders
    built = {
        service["build"]["args"]["SERVICE"]
        for service in compose_file["services"].values()
        if "args" in (service.get("build") or {})
    }
    assert built == folders


def test_each_service_package_is_named_after_its_folder(
    workspace_projects: dict[str, dict[str, Any]],
) -> None:
    """`archive-<SERVICE>` is the workspace package (and console script) of each folder."""
    for folder in (ROOT / "services").glob("*/pyproject.toml"):
        project = msgspec.toml.decode(folder.read_bytes())["project"]
        name = f"archive-{folder.parent.name}"
        assert project["name"] == name
        assert name in project["scripts"]
    assert "twitch-archive" in workspace_projects["twitch-archive"]["scripts"]


def test_the_venv_is_installed_from_the_lock_without_dev_tools(python_dockerfile: Any) -> None:
    """Every `uv sync` is frozen to uv.lock and leaves the dev group out."""
    syncs = [
        run.value
        for stage in python_dockerfile.stages
        for run in stage.all("RUN")
        if "uv sync" in run.value
    ]
    assert len(syncs) == 4
    for sync in syncs:
        assert "--frozen" in sync
        assert "--no-dev" in sync


@pytest.mark.parametrize("target", ["cli", "service"])
def test_images_run_as_an_unprivileged_user(python_dockerfile: Any, target: str) -> None:
    """The runtime images switch to the numeric, non-root user made in the runtime stage."""
    user = python_dockerfile.stage(target).all("USER")[-1].value
    uid = re.search(r"--uid (\d+)", python_dockerfile.stage("runtime").all("RUN")[0].value)
    assert user == f"{uid.group(1)}:{uid.group(1)}"
    assert not user.startswith("0")


def test_services_listen_on_every_interface_and_stop_on_sigterm(python_dockerfile: Any) -> None:
    """Each setting that binds loopback by default is 0.0.0.0 in the image; SIGTERM stops it."""
    runtime = python_dockerfile.stage("runtime")
    env = runtime.env()
    for settings in SETTINGS:
        for field in msgspec.structs.fields(settings):
            if field.name.endswith("host") and field.default == "127.0.0.1":
                assert env.get(field.encode_name) == "0.0.0.0", field.encode_name
    assert env["PYTHONUNBUFFERED"] == "1"
    assert [s.value for s in runtime.all("STOPSIGNAL")] == ["SIGTERM"]
    schema_copy = next(c.value for c in runtime.all("COPY") if c.value.startswith("schema"))
    assert schema_copy.split()[-1].rstrip("/") == env["SCHEMA_DIR"]


def test_the_images_match_the_versions_the_project_uses(
    python_dockerfile: Any, compose_file: dict[str, Any]
) -> None:
    """Python as in .python-version; pg_dump of the compose PostgreSQL's major version."""
    python = (ROOT / ".python-version").read_text().strip()
    assert python_dockerfile.args["PYTHON_IMAGE"].startswith(f"python:{python}-slim")
    postgres_major = compose_file["services"]["postgres"]["image"].split(":")[1].split(".")[0]
    cli_install = " ".join(run.value for run in python_dockerfile.stage("cli").all("RUN"))
    assert f"postgresql-client-{postgres_major}" in cli_install


def test_the_web_image_builds_with_the_node_the_app_wants(web_dockerfile: Any) -> None:
    """The build stage's Node major satisfies web/package.json's engines."""
    engines = msgspec.json.decode((ROOT / "web" / "package.json").read_bytes())["engines"]["node"]
    wanted = int(re.search(r"(\d+)", engines).group(1))
    node = int(re.match(r"node:(\d+)", web_dockerfile.stage("build").base).group(1))
    assert node == wanted


# ---------------------------------------------------------------------------- the health check


def _healthcheck_code(python_dockerfile: Any) -> str:
    (check,) = python_dockerfile.stage("service").all("HEALTHCHECK")
    command = msgspec.json.decode(check.value.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"]
    return str(command[2])


def test_the_health_check_reads_each_services_own_port(python_dockerfile: Any) -> None:
    """The probe's port variable and default for each service are that service's settings."""
    code = _healthcheck_code(python_dockerfile)
    mapping = ast.literal_eval(
        next(n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Dict))
    )
    expected = {}
    for service, (settings, name) in HEALTH_PORTS.items():
        field = next(f for f in msgspec.structs.fields(settings) if f.name == name)
        expected[service] = (field.encode_name, str(field.default))
    assert mapping == expected


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[http.server.ThreadingHTTPServer]:
    """A stand-in /healthz on a free loopback port; set `.RequestHandlerClass.status`."""
    handler = type("Health", (_Health,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _probe(code: str, service: str, port: int) -> int:
    variable = {"api": "API_PORT", "live-gateway": "GATEWAY_PORT"}.get(service, "METRICS_PORT")
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"ARCHIVE_SERVICE": service, variable: str(port)},
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.returncode


@pytest.mark.parametrize("service", sorted(HEALTH_PORTS))
@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)], ids=["200", "503"])
def test_the_health_check_passes_only_on_a_healthy_answer(
    service: str,
    status: int,
    healthy: bool,
    python_dockerfile: Any,
    health_server: http.server.ThreadingHTTPServer,
) -> None:
    """The probe exits 0 when /healthz answers 200 on the service's port, non-zero otherwise."""
    health_server.RequestHandlerClass.status = status
    port = health_server.server_address[1]
    assert (_probe(_healthcheck_code(python_dockerfile), service, port) == 0) is healthy


def test_the_health_check_fails_when_nothing_listens(python_dockerfile: Any) -> None:
    """A closed port (a dead process) is unhealthy."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert _probe(_healthcheck_code(python_dockerfile), "writer", port) != 0
