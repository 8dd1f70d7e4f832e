"""Agency systems' credentials: API keys scoped to unit codes, stored hashed."""
