"""The public transparency board: server-rendered pages of the published figures."""
