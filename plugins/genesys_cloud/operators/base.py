"""Bases of the provider's operators (the shape of amazon's ``AwsBaseOperator``).

:class:`GenesysBaseOperator` holds what every Genesys operator has: the connection id (templated), a hook
built once per task instance, the UI colour. It forces no pool: the DAG decides (ours pass the
``genesys_api`` pool to every task that calls the API).

:class:`GenesysWaitingOperator` adds the wait for remote work (an analytics job, a reporting export):
deferred to the triggerer by default, so a wait never holds a worker slot, or polled in the worker with
``deferrable=False`` through the very same loop (:func:`~genesys_cloud.triggers.base.first_event`).
Airflow's ``[operators] default_deferrable`` is false out of the box; the provider defaults to True on
purpose (a deployment without a triggerer passes ``deferrable=False``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context

from genesys_cloud.config import settings
from genesys_cloud.exceptions import GenesysJobError
from genesys_cloud.ui.links import GenesysOutputsLink

if TYPE_CHECKING:
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_cloud.triggers.base import GenesysPollingTrigger

#: Longest silence of a long extraction or poll loop in the task log, seconds.
PROGRESS_INTERVAL_S = 10.0
#: The trigger times out by itself; Airflow's deferral timeout is only a backstop after it.
DEFER_GRACE_SECONDS = 300
DEFAULT_CONN_ID = "genesys_cloud_default"


def genesys_template_fields(*fields: str) -> tuple[str, ...]:
    """``template_fields`` of a Genesys operator: the connection id plus the operator's own fields."""
    return ("genesys_cloud_conn_id", *fields)


def fingerprint(kind: str, body: Any) -> str:
    """sha256 of the canonical JSON of a submission: a changed request never reuses an old remote job."""
    canonical = json.dumps({"kind": kind, "body": body}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def as_body(value: Any) -> Any:
    """A request given as a shared API model or a dict, as the JSON body the API takes."""
    return value.to_api() if hasattr(value, "to_api") else value


def logged_progress(items: Iterable[Any], log: Any, noun: str, *, interval: float = PROGRESS_INTERVAL_S,
                    clock: Callable[[], float] = time.monotonic) -> Iterator[Any]:
    """``items`` unchanged, with a progress line (count so far and rate) in ``log`` at least every ``interval``
    seconds while items keep coming, and a last line with the total: a day of a million conversations must
    not run for minutes in silence."""
    started = last = clock()
    count = 0
    for item in items:
        count += 1
        yield item
        now = clock()
        if now - last >= interval:
            last = now
            log.info("Progress: %s %s so far in %.0f s (%.0f/s)", f"{count:,}", noun, now - started,
                     count / max(now - started, 1e-9))
    elapsed = clock() - started
    log.info("Done: %s %s in %.1f s (%.0f/s)", f"{count:,}", noun, elapsed, count / max(elapsed, 1e-9))


class GenesysBaseOperator(BaseOperator):
    """An operator on one ``genesys_cloud`` connection.

    :param genesys_cloud_conn_id: the connection (templated); default ``genesys_cloud_default``.
    """

    template_fields: Sequence[str] = genesys_template_fields()
    ui_color = "#ff4f1f"
    #: *Outputs* on the task's page: the outputs page of the run (never a presigned URL).
    operator_extra_links = (GenesysOutputsLink(),)

    def __init__(self, *, genesys_cloud_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.genesys_cloud_conn_id = genesys_cloud_conn_id

    @cached_property
    def hook(self) -> GenesysCloudHook:
        """The task instance's hook (one token cache, one rate budget, one HTTP client)."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

        return GenesysCloudHook(genesys_cloud_conn_id=self.genesys_cloud_conn_id)


class GenesysWaitingOperator(GenesysBaseOperator):
    """A Genesys operator that waits for remote work.

    :param deferrable: wait in the triggerer (default True) or, when False, poll in the worker.
    :param poll_interval: first wait between polls, seconds (default ``GENESYS_POLL_INTERVAL``); grows ×1.5
        up to ``max_poll_interval``.
    :param timeout: seconds before the wait counts as failed (the remote work is then cancelled where the
        API allows it).
    :param max_poll_interval: longest wait between polls, seconds.
    """

    def __init__(
        self,
        *,
        deferrable: bool = True,
        poll_interval: float | None = None,
        timeout: float = 3600.0,
        max_poll_interval: float = 120.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_poll_interval = max_poll_interval

    def trigger_timing(self) -> dict[str, Any]:
        """The shared constructor arguments of the provider's triggers."""
        interval = self.poll_interval if self.poll_interval is not None else settings().poll_interval
        return {"conn_id": self.genesys_cloud_conn_id, "poll_interval": interval, "timeout_seconds": self.timeout,
                "max_poll_interval": self.max_poll_interval}

    def wait_for(self, context: Context, trigger: GenesysPollingTrigger, method_name: str = "execute_complete") -> Any:
        """Defer to ``trigger`` (resuming in ``method_name``), or run its loop here when not deferrable."""
        if self.deferrable:
            self.defer(trigger=trigger, method_name=method_name,
                       timeout=timedelta(seconds=self.timeout + DEFER_GRACE_SECONDS))
        from genesys_cloud.triggers.base import first_event

        self.hook._cfg()  # read the connection synchronously: the loop below needs no async lookup
        return getattr(self, method_name)(context, first_event(trigger, self.hook))

    @staticmethod
    def checked_event(event: Any, id_key: str) -> dict[str, Any]:
        """A trigger event, refused unless it has the shape every provider trigger yields."""
        if not isinstance(event, dict) or event.get("status") not in ("success", "error") or not event.get(id_key):
            raise GenesysJobError(f"unusable trigger event: {event!r}")
        return event


class S3Destination:
    """Where an operator ``…ToS3`` stores files: ``s3_bucket`` (default ``GENESYS_BUCKET``) through the
    ``aws_conn_id`` connection (default ``GENESYS_AWS_CONN_ID``), server-side encrypted, sha256 in metadata."""

    s3_bucket: str | None
    aws_conn_id: str | None

    def store_file(self, key: str, path: Any, **kwargs: Any) -> dict[str, Any]:
        """Upload ``path`` to ``key``; ``{key, bytes, sha256}`` (``kwargs``: content_type, rows, sha256)."""
        from genesys_cloud.sinks.object_store import s3_hook, upload_file

        return upload_file(s3_hook(self.aws_conn_id), self.s3_bucket or settings().bucket, key, path, **kwargs)
