"""Airflow UI additions of the Genesys Cloud provider: the outputs page (``app``) and its data (``outputs``).

Registered by ``plugins/genesys_outputs_plugin.py`` (the one ``AirflowPlugin`` of this project).
"""
