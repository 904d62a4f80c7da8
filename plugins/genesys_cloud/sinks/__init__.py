"""Genesys Cloud provider: sinks."""
