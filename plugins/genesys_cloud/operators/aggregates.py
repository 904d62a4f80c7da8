"""Analytics aggregates query → object storage: one query, its results stored as JSON lines."""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
from airflow.sdk import Context

from genesys_cloud.operators.base import GenesysBaseOperator, S3Destination, as_body, genesys_template_fields


def result_rows(response: Any) -> Iterator[dict[str, Any]]:
    """One row per group and interval: ``{"group": {...}, "interval": "s/e", "metrics": {name: stats}}``."""
    for result in response.results or []:
        group = result.group or {}
        for bucket in result.data or []:
            metrics = {m.metric: m.stats.to_api() if m.stats else {} for m in bucket.metrics or []}
            yield {"group": dict(group), "interval": bucket.interval, "metrics": metrics}


class GenesysAggregatesQueryToS3Operator(S3Destination, GenesysBaseOperator):
    """Run ``POST /api/v2/analytics/conversations/aggregates/query`` and store its rows in S3.

    The rows (one per group and interval, see :func:`result_rows`) go to ``s3_key`` as gzip JSON lines.
    Returns ``{"s3_key", "rows", "groups"}``.

    :param query: the ``ConversationAggregationQuery`` (dict or model; templated).
    :param s3_key: destination key (templated).
    :param s3_bucket: destination bucket (templated; default ``GENESYS_BUCKET``).
    :param aws_conn_id: the object storage connection (default ``GENESYS_AWS_CONN_ID``).
    """

    template_fields: Sequence[str] = genesys_template_fields("query", "s3_key", "s3_bucket")
    template_fields_renderers = {"query": "json"}

    def __init__(self, *, query: dict[str, Any] | Any, s3_key: str, s3_bucket: str | None = None,
                 aws_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query, self.s3_key, self.s3_bucket, self.aws_conn_id = query, s3_key, s3_bucket, aws_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        response = self.hook.aggregates_query(as_body(self.query))
        encoder, rows = msgspec.json.Encoder(), 0
        with tempfile.TemporaryDirectory(prefix="genesys-aggregates-") as tmp:
            path = Path(tmp) / "aggregates.jsonl.gz"
            with gzip.open(path, "wb") as handle:  # an empty file when there is no data: the key always exists
                for row in result_rows(response):
                    handle.write(encoder.encode(row) + b"\n")
                    rows += 1
            self.store_file(self.s3_key, path, content_type="application/gzip", rows=rows)
        groups = len(response.results or [])
        self.log.info("Stored %d aggregate rows of %d groups at %s", rows, groups, self.s3_key)
        return {"s3_key": self.s3_key, "rows": rows, "groups": groups}
