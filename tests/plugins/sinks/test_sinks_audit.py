"""AuditSink on SQLite through an Airflow connection: schema, migration, upsert, scrubbing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from genesys_cloud.sinks.audit import (
    MASK,
    SCHEMA_VERSION,
    AuditError,
    AuditRow,
    AuditSink,
    scrub,
)

START = datetime(2024, 5, 1, tzinfo=UTC)
END = datetime(2024, 5, 2, tzinfo=UTC)


@pytest.fixture()
def sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    db = tmp_path / "audit.db"
    monkeypatch.setenv("AIRFLOW_CONN_GENESYS_AUDIT", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    audit = AuditSink()
    yield audit
    audit.close()


def _row(**overrides) -> AuditRow:
    fields = dict(
        dag_id="campaign_stats",
        run_id="manual__1",
        window_start=START,
        window_end=END,
        task_id="publish",
        event="published",
        entity_type="partition",
        entity_id="campaign_stats/date=2024-05-01/",
        status="success",
        latency_ms=12.5,
        record_count=3,
        details={"flags": ["ok"]},
    )
    fields.update(overrides)
    return AuditRow(**fields)


def test_fresh_schema_is_latest_with_wal(sink: AuditSink) -> None:
    assert sink.schema_version() == 0
    assert sink.ensure_schema() == SCHEMA_VERSION == 2
    assert sink.ensure_schema() == 2  # idempotent
    with sink.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    columns = {c["name"] for c in sa.inspect(sink.engine).get_columns("genesys_audit")}
    assert {"recorded_at", "try_number", "entity_type", "latency_ms", "record_count", "details"} <= columns


def test_upsert_on_natural_key_keeps_one_row(sink: AuditSink) -> None:
    sink.ensure_schema()
    sink.record([_row(try_number=1, status="failed", details={"error": "boom"})])
    # The retry (new try, new run id of a re-run) of the same step and window updates the row.
    sink.record([_row(try_number=2, run_id="manual__2", status="success")])
    (row,) = sink.rows(dag_id="campaign_stats", window_start=START)
    assert (row["try_number"], row["run_id"], row["status"]) == (2, "manual__2", "success")
    assert row["details"] == {"flags": ["ok"]}
    assert row["window_start"] == "2024-05-01T00:00:00+00:00"
    assert row["recorded_at"].tzinfo is not None

    sink.record([_row(entity_id="other"), {**vars(_row()), "event": "notified", "details": {}}])
    assert len(sink.rows(dag_id="campaign_stats")) == 3
    assert [r["event"] for r in sink.rows(event="notified")] == ["notified"]


def test_window_key_is_zone_independent(sink: AuditSink) -> None:
    sink.ensure_schema()
    plus2 = timezone(timedelta(hours=2))
    sink.record([_row(status="first")])
    sink.record(
        [
            _row(
                window_start=START.astimezone(plus2),
                window_end=END.astimezone(plus2).isoformat(),
                status="again",
            )
        ]
    )
    (row,) = sink.rows(dag_id="campaign_stats")
    assert row["status"] == "again"


def test_migration_v1_to_v2_keeps_rows(sink: AuditSink) -> None:
    assert sink.ensure_schema(target=1) == 1
    columns = {c["name"] for c in sa.inspect(sink.engine).get_columns("genesys_audit")}
    assert "latency_ms" not in columns and "record_count" not in columns
    with sink.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO genesys_audit (recorded_at, dag_id, run_id, window_start, window_end, task_id, "
            "map_index, try_number, event, entity_type, entity_id, status, details) VALUES "
            "('2024-05-02 01:00:00', 'campaign_stats', 'r1', '2024-05-01T00:00:00+00:00', "
            "'2024-05-02T00:00:00+00:00', 'publish', -1, 1, 'published', 'partition', "
            "'campaign_stats/date=2024-05-01/', 'success', '{\"legacy\": true}')"
        )

    assert sink.ensure_schema() == 2
    (legacy,) = sink.rows(dag_id="campaign_stats")
    assert legacy["details"] == {"legacy": True} and legacy["latency_ms"] is None
    indexes = {ix["name"] for ix in sa.inspect(sink.engine).get_indexes("genesys_audit")}
    assert "ix_genesys_audit_dag_window" in indexes

    sink.record([_row(run_id="r2")])  # upsert onto the migrated row
    (row,) = sink.rows(dag_id="campaign_stats")
    assert row["run_id"] == "r2" and row["latency_ms"] == 12.5 and row["record_count"] == 3


def test_scrubber_masks_secrets_in_details(sink: AuditSink) -> None:
    details = {
        "client_secret": "abc",
        "nested": {"Authorization": "Bearer abc.def", "note": "sent Bearer abcdefghijkl to the api"},
        "url": "https://bucket.s3/key.csv?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=deadbeef&x=1",
        "legacy_url": "http://h/k?AWSAccessKeyId=AKIA&Signature=abc%3D&Expires=1",
        "dsn": "postgresql://user:hunter2@db:5432/x",
        "jwt": ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"],
        "rows": 3,
    }
    cleaned = scrub(details)
    text = json.dumps(cleaned)
    for secret in ("abc.def", "abcdefghijkl", "deadbeef", "AKIA", "hunter2", "eyJhbGci", "abc%3D"):
        assert secret not in text
    assert cleaned["client_secret"] == MASK and cleaned["rows"] == 3 and cleaned["url"].endswith("&x=1")

    sink.ensure_schema()
    sink.record([_row(details=details)])
    assert sink.rows()[0]["details"] == cleaned


def test_secret_in_fixed_column_is_refused(sink: AuditSink) -> None:
    sink.ensure_schema()
    with pytest.raises(AuditError, match="entity_id"):
        sink.record([_row(entity_id="Bearer abcdefghijklmnop")])
    with pytest.raises(AuditError, match="timezone-aware"):
        sink.record([_row(window_start=datetime(2024, 5, 1))])


def test_row_from_context_reads_the_task_identity() -> None:
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=4, try_number=3)
    row = AuditRow.from_context({"ti": ti}, START, END, "extracted", record_count=10)
    assert (row.dag_id, row.run_id, row.task_id, row.map_index, row.try_number) == ("d", "r", "t", 4, 3)
    assert row.record_count == 10


def test_unsupported_connection_type_is_a_config_error(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AUDIT_MYSQL", json.dumps({"conn_type": "mysql", "host": "h"}))
    from genesys_cloud.exceptions import GenesysConfigError

    with pytest.raises(GenesysConfigError, match="sqlite or postgres"):
        AuditSink("audit_mysql").ensure_schema()


def test_scrub_masks_password_keys_but_not_innocent_words() -> None:
    from genesys_cloud.sinks.audit import MASK, scrub

    out = scrub({"passed": True, "db_password": "x1", "passwd": "y", "pass": "z", "bypassed": 3})
    assert out == {"passed": True, "db_password": MASK, "passwd": MASK, "pass": MASK, "bypassed": 3}


def test_scrub_closes_the_gaps_the_security_review_found() -> None:
    """Issue 16 item 11: signing_key, pwd, passphrase, auth keys; access_token= / sig= query values; opaque
    tokens; and values that only become text when the details are serialised (str() after scrubbing)."""
    from genesys_cloud.sinks.audit import MASK, scrub

    opaque = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5"  # a Genesys-style opaque access token

    class Leaky:
        def __str__(self) -> str:
            return f"client with token {opaque}"

    out = scrub({"signing_key": "k1", "pwd": "p1", "passphrase": "p2", "auth": "a1", "x-auth": "a2",
                 "callback": "https://h/cb?access_token=tok123&sig=s1g&page=2", "said": f"got {opaque} back",
                 "object": Leaky(), "digest": "a" * 64, "id": "c0ffee00-0000-4000-8000-000000000001",
                 "author": "Ann", "authored": True})
    text = json.dumps(out, default=str)
    for secret in ("k1", "p1", "p2", "a1", "a2", "tok123", "s1g", opaque):
        assert secret not in text, secret
    assert out["callback"].endswith("&page=2") and out["digest"] == "a" * 64
    assert out["id"] == "c0ffee00-0000-4000-8000-000000000001"
    assert out["author"] == "Ann" and out["authored"] is True and out["signing_key"] == MASK
