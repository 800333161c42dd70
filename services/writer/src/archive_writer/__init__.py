"""The archive writer: JetStream chat events into PostgreSQL in COPY batches, once in effect."""
