"""The gateway's exceptions, and the closed set of error codes a client can be sent.

ArchiveError                  (twitch_archive.errors)
 +-- ContractError            an event on NATS that does not decode: counted, logged, skipped
 +-- GatewayError
      +-- BridgeError         NATS refused a subscription (connection closed or draining): the
      |                       client is sent an `unavailable` error frame
      +-- ProtocolError       a client frame the gateway refuses: answered with an error frame
                              {"type": "error", "error": <code>, "detail": ...}; it never closes
                              the connection by itself
"""

from __future__ import annotations

import enum

from twitch_archive.errors import ArchiveError


class ErrorCode(enum.StrEnum):
    """Why a client frame was refused (the `error` of an error frame; a metric label)."""

    INVALID_JSON = "invalid_json"
    """The text is not JSON."""
    INVALID_FRAME = "invalid_frame"
    """JSON, but not {"action": ..., "channels": [...]} (the detail names the JSON path)."""
    UNKNOWN_ACTION = "unknown_action"
    """`action` is neither subscribe nor unsubscribe."""
    INVALID_CHANNEL = "invalid_channel"
    """A channel is not a Twitch login (1 to 25 of a-z, 0-9, _) nor `*`."""
    TOO_MANY_CHANNELS = "too_many_channels"
    """The subscription would exceed MAX_SUBSCRIPTIONS channels."""
    FIREHOSE_FORBIDDEN = "firehose_forbidden"
    """`*` was asked for and ALLOW_FIREHOSE is off."""
    BINARY_FRAME = "binary_frame"
    """Frames are JSON text; binary frames are refused."""
    FRAME_TOO_LARGE = "frame_too_large"
    """The frame exceeds MAX_FRAME_BYTES."""
    RATE_LIMITED = "rate_limited"
    """More than CLIENT_FRAMES_PER_SECOND (bursts of twice that): the frame was ignored."""
    UNAVAILABLE = "unavailable"
    """The gateway could not subscribe to NATS just now; try again."""


class GatewayError(ArchiveError):
    """Root of the gateway's own errors."""


class BridgeError(GatewayError):
    """NATS did not take a subscription change."""


class ProtocolError(GatewayError):
    """A client frame was refused: `code` says why, `detail` says what was at fault."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(f"{code.value}: {detail}")
        self.code = code
        self.detail = detail
