"""The joint office's roster per contract and area, checked against the contract's commitments."""
