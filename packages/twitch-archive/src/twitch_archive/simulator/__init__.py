"""A simulated Twitch IRC WebSocket server (tests, demos and load); see docs/simulator.md.

The names below load on first use, so `twitch-archive --help` does not import aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twitch_archive.simulator.app import (
        SimulatorHandle,
        build_app,
        make_settings,
        run_simulator,
    )
    from twitch_archive.simulator.server import Simulator
    from twitch_archive.simulator.settings import SimulatorSettings

__all__ = [
    "Simulator",
    "SimulatorHandle",
    "SimulatorSettings",
    "build_app",
    "make_settings",
    "run_simulator",
]

_HOMES = {
    "Simulator": "twitch_archive.simulator.server",
    "SimulatorHandle": "twitch_archive.simulator.app",
    "SimulatorSettings": "twitch_archive.simulator.settings",
    "build_app": "twitch_archive.simulator.app",
    "make_settings": "twitch_archive.simulator.app",
    "run_simulator": "twitch_archive.simulator.app",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
