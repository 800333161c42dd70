"""Shared package of the Twitch chat archive: the event contract and what every service shares."""

__version__ = "0.1.0"
