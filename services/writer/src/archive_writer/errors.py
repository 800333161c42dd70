"""The writer's exceptions, and which of them a batch survives.

ArchiveError                  (twitch_archive.errors)
 +-- ContractError            an event that does not decode or breaks the contract: dead-lettered
 +-- WriterError
      +-- StoreError          a batch could not be stored
      |    +-- TransientStoreError   PostgreSQL unreachable, slow, or a deadlock/serialization
      |    |                         failure: the same batch is retried with backoff, unacked
      |    +-- RowRejectedError      PostgreSQL refused a row (data or constraint error): the
      |                              batch is split until the culprit is alone, then it is
      |                              dead-lettered and the rest stored
      +-- DeadLetterError     the dead-letter stream did not take a message: it stays unacked
"""

from __future__ import annotations

from twitch_archive.errors import ArchiveError


class WriterError(ArchiveError):
    """Root of the writer's own errors."""


class StoreError(WriterError):
    """A batch could not be stored."""


class TransientStoreError(StoreError):
    """PostgreSQL could not take the batch now (down, slow, deadlock): retry it as it is."""


class RowRejectedError(StoreError):
    """PostgreSQL refused a row of the batch (invalid data, a constraint): split the batch."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeadLetterError(WriterError):
    """The dead-letter stream did not acknowledge a message."""
