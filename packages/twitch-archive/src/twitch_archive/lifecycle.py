"""Process lifecycle: turn SIGTERM/SIGINT into an awaitable event so services drain in order."""

from __future__ import annotations

import asyncio
import signal

import structlog

log = structlog.get_logger("twitch_archive.lifecycle")


class Shutdown:
    """Set once SIGTERM or SIGINT arrives or `request()` is called; a second signal forces exit."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._installed: list[signal.Signals] = []

    def install(self) -> None:
        """Listen for SIGTERM and SIGINT on the running loop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
            self._installed.append(sig)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()

    def _on_signal(self, sig: signal.Signals) -> None:
        if self._event.is_set():
            log.warning("shutdown_forced", signal=sig.name)
            raise SystemExit(128 + sig.value)
        log.info("shutdown_requested", signal=sig.name)
        self._event.set()

    def request(self) -> None:
        """Ask for a shutdown from inside the process (tests, fatal errors)."""
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()
