"""The National Public Service Portal (Cổng DVCQG): the dossier sync, and a portal simulator."""
