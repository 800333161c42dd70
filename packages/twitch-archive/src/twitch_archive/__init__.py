"""Shared package of the Twitch chat archive: the event contract and everything the services share."""

__version__ = "0.1.0"
