"""The live gateway: a WebSocket feed of chat events at /api/live, fanned out from NATS."""
