"""Genesys Cloud provider: operators."""
