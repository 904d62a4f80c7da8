"""Asynchronous analytics reporting export pipeline (``genesys_reporting_export``): pure logic.

Import the submodules directly; this package module stays light (no pandas/pyarrow) so the DAG file
can read the param defaults at parse time.

- :mod:`.params`: run params (``exports``, ``max_dropped_share``, ...) validated before any API call.
- :mod:`.config`: ``views.yaml`` (our limits, request defaults, column mapping per view type).
- :mod:`.request`: export request bodies built from the run window and validated (SDK enums and
  ViewFilter keys, our limits, the exports metadata), deterministic export names.
- :mod:`.csv_io`: robust CSV reading; :mod:`.transform`: mapping/casting per view;
  :mod:`.outputs`: output validation and byte-stable Parquet/CSV.
"""
