"""The HTTP API: ingest for agency systems that cannot speak Kafka, and reads."""
