"""Pydantic v2 models of the Genesys Cloud Platform API v2, named after the official SDK models."""
