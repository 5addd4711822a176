"""The workspace simulator: a realistic support operation with known, injected incidents."""
