"""The audit trail: one SQL table of what every pipeline step did, upserted on a natural key.

Reached through the Airflow connection ``genesys_audit`` (``settings().audit_conn_id``):

* ``sqlite`` (embedded default): ``host`` is the database file; WAL journal and a busy timeout are set on
  every connection so parallel tasks can read while one writes;
* ``postgres``/``postgresql`` (the stack): host, port, login, password, schema (= database name).

Table ``genesys_audit``: fixed columns ``recorded_at, dag_id, run_id, window_start, window_end, task_id,
map_index, try_number, event, entity_type, entity_id, status, latency_ms, record_count`` plus ``details``
(JSON text: validation flags, before/after of writes, errors). One row per
``(dag_id, window_start, window_end, task_id, map_index, entity_id, event)``: a retry or a re-run of the
same window updates that row (latest try wins) instead of adding one. Window bounds are stored as ISO-8601
UTC text so the key does not depend on how a caller spelled the zone.

``genesys_audit_schema`` holds ``schema_version``; :meth:`AuditSink.ensure_schema` (run by the first
:meth:`AuditSink.record` of a sink, so callers never call it) applies the missing steps of
:data:`MIGRATIONS` in order (v1: the table and its key; v2: ``latency_ms``, ``record_count`` and a
``(dag_id, window_start)`` index). Fresh databases go through the same steps as old ones.

No secrets: :func:`scrub` masks secret-looking keys and values in ``details``; a secret-looking value in a
fixed column is refused.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from genesys_cloud.config import settings
from genesys_cloud.exceptions import AuditError, GenesysConfigError

log = logging.getLogger(__name__)

TABLE = "genesys_audit"
SCHEMA_TABLE = "genesys_audit_schema"
NATURAL_KEY = ("dag_id", "window_start", "window_end", "task_id", "map_index", "entity_id", "event")
MASK = "***"

_SECRET_KEY = re.compile(
    r"((?<![a-z])pass(word|wd|phrase)?(?![a-z])|(?<![a-z])pwd(?![a-z])|(?<![a-z])auth(?![a-z])|secret|token"
    r"|authori[sz]ation|api[_-]?key|signing[_-]?key|access[_-]?key|credential|cookie|signature|private[_-]?key)",
    re.IGNORECASE,
)
#: Query values that are credentials whatever the URL (OAuth tokens, signatures, passwords).
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:access_token|id_token|refresh_token|token|sig|signature|password|pwd|passphrase|secret"
    r"|client_secret|api_key|apikey|code)=)[^&\s\"#]+")
#: Opaque bearer tokens (Genesys access tokens are ~86 chars of base64url): 40+ such characters mixing upper,
#: lower and digits. Hex digests (lower-case hex) and UUIDs (36 chars with dashes) do not match.
_OPAQUE_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])"
                           r"(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])")
_SECRET_VALUE = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),  # JWT
    # Presigned URL signatures and credentials (SigV2 and SigV4): the URL stays recognisable.
    (
        re.compile(
            r"(?i)((?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|awsaccesskeyid)=)[^&\s\"]+"
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@"), r"\1" + MASK + "@"),  # user:pw@host
    (_SECRET_QUERY, r"\1" + MASK),
    (_OPAQUE_TOKEN, MASK),
]


def _mask_text(text: str) -> str:
    for pattern, replacement in _SECRET_VALUE:
        text = pattern.sub(replacement, text)
    return text


def scrub(value: Any) -> Any:
    """A copy of ``value`` with secret-looking keys' values and secret-looking substrings masked."""
    if isinstance(value, Mapping):
        return {
            str(k): (MASK if _SECRET_KEY.search(str(k)) and v not in (None, "") else scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return _mask_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else becomes text only when the details are serialised (json default=str): mask that text now.
    return _mask_text(str(value))


def _utc_iso(value: datetime | str | None) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise AuditError(f"window bound {value!r} must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


@dataclass
class AuditRow:
    """One audit record. ``details`` must be JSON-serialisable; it is scrubbed before it is stored."""

    dag_id: str
    run_id: str
    window_start: datetime | str | None
    window_end: datetime | str | None
    task_id: str
    event: str
    map_index: int = -1
    try_number: int = 1
    entity_type: str = ""
    entity_id: str = ""
    status: str = ""
    latency_ms: float | None = None
    record_count: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None

    @classmethod
    def from_context(
        cls,
        context: Mapping[str, Any],
        window_start: datetime | str | None,
        window_end: datetime | str | None,
        event: str,
        **fields: Any,
    ) -> AuditRow:
        """A row for the running task instance (dag/run/task ids, map index and try from the context)."""
        from genesys_cloud.context import run_identity

        identity = run_identity(context)
        return cls(
            dag_id=identity["dag_id"] or "",
            run_id=identity["run_id"] or "",
            task_id=identity["task_id"] or "",
            map_index=identity["map_index"],
            try_number=identity["try_number"] or 1,
            window_start=window_start,
            window_end=window_end,
            event=event,
            **fields,
        )

    def to_record(self, now: Callable[[], datetime]) -> dict[str, Any]:
        record = asdict(self)
        for name in ("dag_id", "run_id", "task_id", "event", "entity_type", "entity_id", "status"):
            text = str(record[name] or "")
            if _mask_text(text) != text:
                raise AuditError(f"audit column {name} looks like it holds a secret; refusing the row")
            record[name] = text
        record["window_start"] = _utc_iso(self.window_start)
        record["window_end"] = _utc_iso(self.window_end)
        record["map_index"] = -1 if self.map_index is None else int(self.map_index)
        record["recorded_at"] = (self.recorded_at or now()).astimezone(UTC)
        record["details"] = json.dumps(scrub(self.details or {}), sort_keys=True, default=str)
        return record


# -- schema and migrations ------------------------------------------------------------------------
def _v1_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        TABLE,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("window_start", sa.String(40), nullable=False),
        sa.Column("window_end", sa.String(40), nullable=False),
        sa.Column("task_id", sa.String(250), nullable=False),
        sa.Column("map_index", sa.Integer, nullable=False),
        sa.Column("try_number", sa.Integer, nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(100), nullable=False),
        # NOT NULL with '' for "no entity": NULLs never collide in a unique constraint.
        sa.Column("entity_id", sa.String(250), nullable=False),
        sa.Column("status", sa.String(100), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.UniqueConstraint(*NATURAL_KEY, name="uq_genesys_audit_natural_key"),
    )


def _migrate_0_to_1(conn: Connection) -> None:
    # checkfirst adopts a table created before the version table existed.
    _v1_table(sa.MetaData()).create(conn, checkfirst=True)


def _migrate_1_to_2(conn: Connection) -> None:
    columns = {c["name"] for c in sa.inspect(conn).get_columns(TABLE)}
    if "latency_ms" not in columns:
        conn.execute(sa.text(f"ALTER TABLE {TABLE} ADD COLUMN latency_ms DOUBLE PRECISION"))
    if "record_count" not in columns:
        conn.execute(sa.text(f"ALTER TABLE {TABLE} ADD COLUMN record_count BIGINT"))
    conn.execute(
        sa.text(f"CREATE INDEX IF NOT EXISTS ix_genesys_audit_dag_window ON {TABLE} (dag_id, window_start)")
    )


#: (from_version, to_version, step); applied in order inside one transaction each.
MIGRATIONS: list[tuple[int, int, Callable[[Connection], None]]] = [
    (0, 1, _migrate_0_to_1),
    (1, 2, _migrate_1_to_2),
]
SCHEMA_VERSION = MIGRATIONS[-1][1]

_metadata = sa.MetaData()
audit_table = _v1_table(_metadata)
audit_table.append_column(sa.Column("latency_ms", sa.Float, nullable=True))
audit_table.append_column(sa.Column("record_count", sa.BigInteger, nullable=True))
schema_table = sa.Table(
    SCHEMA_TABLE,
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
)


# -- engine ---------------------------------------------------------------------------------------
def _url_from_connection(conn_id: str) -> URL:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    conn_type = (conn.conn_type or "").lower()
    if conn_type == "sqlite":
        if not conn.host:
            raise GenesysConfigError(f"sqlite connection {conn_id!r} needs the database file in host")
        return URL.create("sqlite", database=conn.host)
    if conn_type in ("postgres", "postgresql"):
        return URL.create(
            "postgresql+psycopg2",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
        )
    raise GenesysConfigError(
        f"audit connection {conn_id!r} has type {conn.conn_type!r}; use sqlite or postgres"
    )


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _upsert(dialect: str, rows: list[dict[str, Any]]) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - guarded by _url_from_connection
        raise AuditError(f"no upsert for dialect {dialect}")
    statement = insert(audit_table).values(rows)
    updates = {
        c.name: statement.excluded[c.name] for c in audit_table.columns if c.name not in (*NATURAL_KEY, "id")
    }
    return statement.on_conflict_do_update(index_elements=list(NATURAL_KEY), set_=updates)


class AuditSink:
    """Write and read the audit trail through the ``genesys_audit`` connection (or an explicit engine)."""

    def __init__(self, conn_id: str | None = None, *, engine: Engine | None = None) -> None:
        self.conn_id = conn_id or settings().audit_conn_id
        self._engine = engine
        self._now: Callable[[], datetime] = lambda: datetime.now(UTC)  # audit metadata, not pipeline logic
        self._schema_ready = False

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            url = _url_from_connection(self.conn_id)
            engine = sa.create_engine(url, pool_pre_ping=True)
            if url.get_backend_name() == "sqlite":
                sa.event.listen(engine, "connect", _on_sqlite_connect)
            self._engine = engine
        return self._engine

    def schema_version(self) -> int:
        """The stored schema version (0 when nothing was created yet)."""
        if not sa.inspect(self.engine).has_table(SCHEMA_TABLE):
            return 0
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(schema_table.c.schema_version)).scalar() or 0)

    def ensure_schema(self, target: int = SCHEMA_VERSION) -> int:
        """Create or migrate the tables up to ``target``; returns the version now stored."""
        schema_table.create(self.engine, checkfirst=True)
        for start, end, step in MIGRATIONS:
            if end > target:
                break
            with self.engine.begin() as conn:
                current = conn.execute(
                    sa.select(schema_table.c.schema_version).where(schema_table.c.id == 1).with_for_update()
                ).scalar()
                if current is None:
                    conn.execute(schema_table.insert().values(id=1, schema_version=0))
                    current = 0
                if current != start:
                    continue
                step(conn)
                conn.execute(schema_table.update().where(schema_table.c.id == 1).values(schema_version=end))
                log.info("Audit schema migrated from v%d to v%d", start, end)
        self._schema_ready = target >= SCHEMA_VERSION
        return self.schema_version()

    def record(self, rows: Iterable[AuditRow | Mapping[str, Any]]) -> int:
        """Upsert ``rows`` (AuditRow or dicts of its fields) on the natural key; returns how many."""
        records = [
            (row if isinstance(row, AuditRow) else AuditRow(**dict(row))).to_record(self._now) for row in rows
        ]
        if not records:
            return 0
        if not self._schema_ready:  # callers never need to call ensure_schema() themselves
            self.ensure_schema()
        # Within one statement a key may appear once: the last row for a key wins, as in a re-run.
        unique = list({tuple(r[k] for k in NATURAL_KEY): r for r in records}.values())
        with self.engine.begin() as conn:
            conn.execute(_upsert(self.engine.dialect.name, unique))
        return len(unique)

    def rows(
        self,
        dag_id: str | None = None,
        window_start: datetime | str | None = None,
        *,
        run_id: str | None = None,
        event: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Stored rows (details parsed back to a dict), oldest first, optionally filtered."""
        query = sa.select(audit_table).order_by(audit_table.c.id)
        if dag_id is not None:
            query = query.where(audit_table.c.dag_id == dag_id)
        if window_start is not None:
            query = query.where(audit_table.c.window_start == _utc_iso(window_start))
        if run_id is not None:
            query = query.where(audit_table.c.run_id == run_id)
        if event is not None:
            query = query.where(audit_table.c.event == event)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            result = [dict(r._mapping) for r in conn.execute(query)]
        for row in result:
            row["details"] = json.loads(row["details"] or "{}")
            recorded = row["recorded_at"]
            if isinstance(recorded, datetime) and recorded.tzinfo is None:
                row["recorded_at"] = recorded.replace(tzinfo=UTC)  # SQLite drops the offset
        return result

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def record_entries(context: Mapping[str, Any], window_start: datetime | str | None,
                   window_end: datetime | str | None, entries: Iterable[Mapping[str, Any]]) -> int:
    """Upsert audit rows given as dicts of :class:`AuditRow` fields (event, entity_type, entity_id, status,
    latency_ms, record_count, details) for the running task and the run's window; returns how many."""
    return AuditSink().record([AuditRow.from_context(context, window_start, window_end, **dict(e)) for e in entries])


def audit_task_failure(
    event: str,
    entity_type: str,
    entity_id: Callable[[Any], str],
    details: Callable[[Any], dict[str, Any]] = lambda task: {},
) -> Callable[[Mapping[str, Any]], None]:
    """An ``on_failure_callback`` that records a ``failed`` audit row for the failed task, keyed like the
    success row of the same entity (``entity_id(task)``), with the error text in ``details``.

    A failing audit must not hide the task's own failure: errors here are logged, never raised.
    """

    def callback(context: Mapping[str, Any]) -> None:
        from genesys_cloud.context import window_from_context

        try:
            task = context.get("task")
            window = window_from_context(context)
            record_entries(context, window.start, window.end, [{
                "event": event, "entity_type": entity_type, "entity_id": str(entity_id(task) or ""),
                "status": "failed", "details": {**details(task), "error": str(context.get("exception") or "")[:2000]},
            }])
        except Exception:
            log.exception("Could not audit the failed task")

    return callback


class WriteAheadJournal:
    """Write-ahead audit of writes to Genesys: every write is recorded as *intended* before it is sent and
    *completed* after, on one row per entity (same natural key: the completion updates the intent).

    A task that dies between the two leaves the row ``INTENDED`` with ``write_may_have_landed: true``, so
    every landed or possibly-landed write is in the audit whatever happens to the task. When the intent
    cannot be recorded (the audit store is down) :meth:`intend` raises :class:`AuditError` and the caller
    must not write. A failed completion is logged, never raised (the intent row already covers the write).
    """

    def __init__(self, context: Mapping[str, Any], window_start: datetime | str | None,
                 window_end: datetime | str | None, event: str, entity_type: str,
                 sink: AuditSink | None = None, approver: Mapping[str, Any] | None = None) -> None:
        self.context, self.window = context, (window_start, window_end)
        self.event, self.entity_type = event, entity_type
        self.sink = sink or AuditSink()
        self.approver = dict(approver or {})

    def _row(self, entity_id: str, status: str, details: Mapping[str, Any]) -> AuditRow:
        return AuditRow.from_context(self.context, *self.window, self.event, entity_type=self.entity_type,
                                     entity_id=str(entity_id), status=status,
                                     details={**dict(details), **({"approval": self.approver} if self.approver else {})})

    def intend(self, entity_id: str, details: Mapping[str, Any]) -> None:
        try:
            self.sink.record([self._row(entity_id, "INTENDED", {**dict(details), "write_may_have_landed": True})])
        except Exception as exc:  # the store is down or refused the row: no write without its intent
            raise AuditError(f"could not record the intent to write {self.entity_type} {entity_id}: {exc}") from exc

    def complete(self, entity_id: str, status: str, details: Mapping[str, Any]) -> None:
        try:
            self.sink.record([self._row(entity_id, status, details)])
        except Exception:
            log.exception("Could not record the completion of the write of %s %s (its intent row stands)",
                          self.entity_type, entity_id)


def approved_journal(context: Mapping[str, Any], window_start: datetime | str | None,
                     window_end: datetime | str | None, event: str, entity_type: str,
                     shown: Mapping[str, Any], reader: Callable[..., Any] | None = None
                     ) -> tuple[WriteAheadJournal, Any]:
    """For an apply task: the write-ahead journal and ``approved`` (None when no approval is required, else
    whether the approval task instance's recorded human-in-the-loop answer approves exactly ``shown``:
    ``genesys_pipelines.approval.gate``). ``shown`` is the review (required, digest, body) that apply
    recomputed from what it is about to write; the answer is read by ``reader`` (default: from the
    api-server, :func:`genesys_cloud.approvals.recorded_answer`), never from XCom. The approver (or why
    there is no approval) goes into every audit row."""
    from genesys_pipelines.approval import gate

    record, error = None, ""
    if shown.get("required"):
        if reader is None:
            from genesys_cloud.approvals import recorded_answer as reader
        record, error = reader(context)
    approved, audit = gate(shown, record, unreadable=error)  # an unreadable record: cause "unreadable"
    return WriteAheadJournal(context, window_start, window_end, event, entity_type, approver=audit), approved
