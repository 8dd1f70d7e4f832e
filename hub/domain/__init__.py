"""The hub's domain: the dossier lifecycle, deadlines and the Dossier aggregate. No I/O."""
