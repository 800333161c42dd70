"""The shared exception tree.

ArchiveError
 +-- ContractError      an event that does not match the contract (decode or validation)
 +-- IrcParseError      a raw IRC line that cannot be parsed (closed set of reasons)
 +-- ConfigError        an invalid setting in the environment
 +-- MigrationError     a schema migration that cannot be applied
 +-- BackupError        a backup or restore that cannot be done (tool missing, corrupt dump)
"""

from __future__ import annotations

import enum


class ArchiveError(Exception):
    """Root of every error this project raises on purpose."""


class ContractError(ArchiveError):
    """An event payload does not match the event contract."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IrcParseReason(enum.StrEnum):
    """The closed set of reasons a raw IRC line can be rejected for."""

    EMPTY_LINE = "empty_line"
    CONTROL_CHARACTER = "control_character"
    MALFORMED_TAGS = "malformed_tags"
    MALFORMED_PREFIX = "malformed_prefix"
    MISSING_COMMAND = "missing_command"
    MALFORMED_COMMAND = "malformed_command"
    MALFORMED_PARAMS = "malformed_params"
    MISSING_PARAM = "missing_param"
    MISSING_TAG = "missing_tag"
    MALFORMED_TAG_VALUE = "malformed_tag_value"
    INVALID_CHANNEL = "invalid_channel"


class IrcParseError(ArchiveError):
    """A raw line could not be parsed: names the line, the reason and the tag at fault, if any."""

    def __init__(
        self, line: str, reason: IrcParseReason, detail: str = "", tag: str | None = None
    ) -> None:
        self.line = line
        self.reason = reason
        self.detail = detail
        self.tag = tag
        where = f" (tag {tag!r})" if tag else ""
        more = f": {detail}" if detail else ""
        super().__init__(f"{reason.value}{where}{more}: {line[:200]!r}")


class ConfigError(ArchiveError):
    """A setting in the environment is missing or invalid."""


class MigrationError(ArchiveError):
    """A schema migration could not be applied."""


class BackupError(ArchiveError):
    """A backup or a restore could not be done; the message says why."""
