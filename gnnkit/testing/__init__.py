"""Tiny models and graphs for gnnkit's own tests."""
