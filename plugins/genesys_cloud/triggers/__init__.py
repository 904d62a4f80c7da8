"""Genesys Cloud provider: triggers."""
