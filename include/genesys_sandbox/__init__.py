"""A local emulator of the Genesys Cloud Platform API v2 (FastAPI)."""
