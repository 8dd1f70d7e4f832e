"""The bus: Kafka in and out, or the embedded in-process bus over the store's log."""
