"""Reuse of earlier results: an agency asks, for an applicant and an earlier dossier code,
what of that dossier may be reused for a procedure; every look-up is recorded."""
