"""The ingestor: Twitch IRC over WebSockets in, normalized chat events into JetStream out."""
