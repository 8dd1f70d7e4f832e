"""The catalogue of units and procedures, kept as events."""
