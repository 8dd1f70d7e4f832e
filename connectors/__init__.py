"""Outbound integrations of the hub."""
