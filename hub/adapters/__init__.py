"""Adapters at the edge: files, databases, the bus."""
