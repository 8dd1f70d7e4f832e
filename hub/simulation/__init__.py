"""Scenarios: a province described in a file, turned into its catalogue and its dossiers."""
