"""Applicants' personal data: encrypted under a key per applicant, erasable, read by auditors
only, and every read recorded."""
