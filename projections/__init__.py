"""Read models built from the log of accepted events."""
