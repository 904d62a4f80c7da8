"""Genesys Cloud provider: hooks."""
