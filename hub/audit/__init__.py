"""The auditor's toolkit: dossier histories, tamper evidence, proofs."""
