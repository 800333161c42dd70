"""Typed settings from environment variables: `load(cls)` turns os.environ into a frozen Struct.

Each service declares one `msgspec.Struct(frozen=True, kw_only=True, rename="upper")` whose
fields carry working local defaults; `load` validates it and names the variable at fault.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from twitch_archive.errors import ConfigError

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/twitch_archive"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

LogLevel = Literal["debug", "info", "warning", "error", "DEBUG", "INFO", "WARNING", "ERROR"]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]


class Secret:
    """A value that never shows in reprs or logs; `.reveal()` at the point of use."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class CommaList(tuple[str, ...]):
    """A comma-separated variable (`CHANNELS=a,b`) as a tuple of stripped, non-empty items."""

    __slots__ = ()

    @classmethod
    def parse(cls, raw: str) -> CommaList:
        return cls(item.strip() for item in raw.split(",") if item.strip())


def _dec_hook(kind: type, value: Any) -> Any:
    if kind is Secret and isinstance(value, str):
        return Secret(value)
    if kind is CommaList:
        if isinstance(value, str):
            return CommaList.parse(value)
        if isinstance(value, list | tuple):
            return CommaList(str(item) for item in value)
    raise NotImplementedError(f"cannot read {kind.__name__} from {type(value).__name__}")


S = TypeVar("S", bound=msgspec.Struct)


def load(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Build settings from the environment; raises ConfigError naming the variable at fault."""
    source = os.environ if environ is None else environ
    # Empty variables mean "unset", so `FOO=` in a .env file falls back to the default.
    present = {key: value for key, value in source.items() if value != ""}
    try:
        return msgspec.convert(present, cls, strict=False, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc


def load_or_exit(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
    """`load` for entry points: print the reason and exit with status 2 on bad configuration."""
    try:
        return load(cls, environ)
    except ConfigError as exc:
        print(exc, file=sys.stderr)  # noqa: T201 - logging is not configured yet at this point
        raise SystemExit(2) from exc


class ToolSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Settings of the `twitch-archive` command-line tool."""

    database_url: str = DEFAULT_DATABASE_URL
    """PostgreSQL the `migrate` command applies the schema to; the local server by default."""
    schema_dir: str | None = None
    """Folder of numbered SQL migrations; by default the repository's `schema/`."""
    log_level: LogLevel = "info"
    """Log verbosity: debug, info, warning or error."""


class BackupSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Settings of `twitch-archive backup` and `restore`; their command-line options win."""

    database_url: str = DEFAULT_DATABASE_URL
    """Database `backup` dumps and `restore` restores into (created when missing)."""
    backup_dir: str | None = None
    """Folder of the dumps (`--dir`); backup needs one of the two."""
    backup_keep: Annotated[int, msgspec.Meta(ge=1)] = 7
    """Newest dumps of the database kept in the folder after each backup (`--keep`)."""
    backup_every: str | None = None
    """Repeat interval such as `24h` (`--every`); unset takes one backup and exits."""
    pg_bin_dir: str | None = None
    """Folder of pg_dump and pg_restore; by default PATH, then the newest
    /usr/lib/postgresql/<major>/bin. They must be at least the server's major version."""
    log_level: LogLevel = "info"
    """Log verbosity: debug, info, warning or error."""
