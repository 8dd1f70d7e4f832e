"""Unit daily progress: the figures provinces publish, per unit, procedure and day."""
