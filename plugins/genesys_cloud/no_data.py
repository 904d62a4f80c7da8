"""The task side of a run without data (see :mod:`genesys_pipelines.no_data`): a WARNING in the task log
naming the window and where the sandbox has data, and the opt-in failure (``fail_on_no_data``).

Called after the delivery, so an empty partition is still published, sent and audited as ``NO_DATA``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from genesys_pipelines.no_data import failure, has_no_data, warning
from genesys_pipelines.windows import Window

log = logging.getLogger(__name__)


def check_no_data(pipeline: str, window: Window, flags: Sequence[str] | None, what: str, *,
                  fail: bool) -> bool:
    """True when ``flags`` say ``NO_DATA`` (after logging the WARNING); raises ``AirflowFailException``
    when the run asked to fail on it."""
    if not has_no_data(flags):
        return False
    log.warning(warning(pipeline, window, what))
    if fail:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(failure(pipeline, window, what))
    return True
