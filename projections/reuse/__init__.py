"""The reuse index: for every dossier, what it submitted, what it resulted in, whose it is."""
