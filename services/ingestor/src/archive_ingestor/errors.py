"""The ingestor's exception tree.

IngestorError
 +-- IrcConnectError     a WebSocket could not be opened or the login did not complete
 |    +-- IrcAuthError   Twitch refused the login (bad or expired OAuth token)
 +-- SessionClosed       an open IRC session ended (carries the reason, for gaps and metrics)
"""

from __future__ import annotations

from twitch_archive.errors import ArchiveError


class IngestorError(ArchiveError):
    """Root of the errors the ingestor raises on purpose."""


class IrcConnectError(IngestorError):
    """Opening a session failed: DNS, TCP, TLS, WebSocket upgrade, or no welcome in time."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class IrcAuthError(IrcConnectError):
    """Twitch answered the login with a NOTICE and closed: wrong, expired or malformed token."""
