"""Pure domain logic for the Genesys Cloud pipelines (no Airflow imports)."""
