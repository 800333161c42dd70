"""Shutdown turns SIGTERM and SIGINT into an awaitable event."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from twitch_archive.lifecycle import Shutdown


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
async def test_signal_sets_the_shutdown_event(sig: signal.Signals) -> None:
    """A termination signal wakes whoever waits on the shutdown, instead of killing the process."""
    shutdown = Shutdown()
    shutdown.install()
    try:
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(shutdown.wait(), 2)
        assert shutdown.requested
    finally:
        shutdown.uninstall()


async def test_request_sets_the_event_without_a_signal() -> None:
    """`request()` asks for the same orderly shutdown from inside the process."""
    shutdown = Shutdown()
    assert not shutdown.requested
    shutdown.request()
    await asyncio.wait_for(shutdown.wait(), 1)
    assert shutdown.requested
