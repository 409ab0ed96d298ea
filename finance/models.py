"""Models arrive with their issues (claims: the claim life; finance: ledgers)."""
