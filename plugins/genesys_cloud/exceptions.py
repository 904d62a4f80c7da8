"""Every error the Genesys Cloud provider raises, in one module. Messages name the cause, never a secret.

::

    GenesysError
    ├── GenesysConfigError             the connection or region is unusable (fail fast)
    ├── GenesysValidationError         a request refused before it was sent (fail fast)
    ├── GenesysTransportError          no HTTP answer: connection refused/reset, DNS, protocol
    │   └── GenesysTimeoutError        connect, read, write or pool timeout
    ├── GenesysPayloadError            a 2xx answer that is not the JSON expected (malformed, wrong shape)
    │   ├── GenesysResponseTooLargeError   over GENESYS_MAX_RESPONSE_BYTES (not retried)
    │   └── GenesysPageLimitError      a paginator past GENESYS_MAX_PAGES (not retried)
    ├── GenesysCeilingError            a UTC day over the sync details query's 100,000 results
    ├── GenesysApiError                an HTTP error answer, with the ErrorBody's fields
    │   ├── GenesysBadRequestError     400 (fail fast)
    │   ├── GenesysAuthError           401 after one re-authentication, or a refused token request
    │   ├── GenesysForbiddenError      403: a permission is missing (fail fast)
    │   ├── GenesysNotFoundError       404 (fail fast when it escapes a task)
    │   ├── GenesysConflictError       409: stale version; re-read, re-plan, retry (bounded)
    │   ├── GenesysRateLimitError      429, with ``retry_after``
    │   │   └── GenesysRetryAfterTooLongError  a Retry-After over GENESYS_RETRY_AFTER_MAX_S (not retried)
    │   └── GenesysServerError         5xx
    ├── GenesysJobError                an async job or reporting export failed, timed out, or sent an
    │                                  unusable trigger event
    ├── GenesysDataNotAvailableError   the window ends after the datalake's dataAvailabilityDate
    │                                  (retryable: the data lands later)
    ├── ObjectStoreError               publishing, reading or presigning outputs failed
    │   └── PresignError               ``S3Hook.generate_presigned_url`` returned None
    ├── WebhookError                   a webhook delivery that cannot succeed (config, 4xx, retries spent)
    │   └── WebhookSignatureError      a signature that does not verify (receivers)
    └── AuditError                     the audit trail refused a row or could not be reached

"Fail fast": errors a retry cannot fix also subclass Airflow's ``AirflowFailException``, so a task that
lets one escape fails at once instead of burning its task retries. 401, 409, 429, 5xx, transport and
payload errors stay ordinary exceptions: Airflow may retry them.
"""

from __future__ import annotations

from typing import Any

# Importing Airflow the first time runs provider discovery, which imports genesys_cloud.hooks.connection:
# that module therefore imports this one lazily (inside from_parts), or the import would be circular.
from airflow.sdk.exceptions import AirflowFailException


class GenesysError(Exception):
    """Base class of every error raised by the Genesys Cloud provider."""


class GenesysConfigError(GenesysError):
    """The connection or region is unusable (unknown region, missing client id/secret, bad extra)."""


class GenesysTransportError(GenesysError):
    """The request did not get an HTTP answer (connection refused/reset, DNS, protocol error)."""

    def __init__(self, message: str, endpoint: str = "") -> None:
        super().__init__(message)
        self.endpoint = endpoint


class GenesysTimeoutError(GenesysTransportError):
    """The request timed out (connect, read, write or pool)."""


class GenesysPayloadError(GenesysError):
    """A 2xx answer whose body is not the JSON we expected (malformed, truncated, wrong shape)."""

    def __init__(self, message: str, endpoint: str = "") -> None:
        super().__init__(message)
        self.endpoint = endpoint


class GenesysResponseTooLargeError(GenesysPayloadError):
    """A 2xx body over ``GENESYS_MAX_RESPONSE_BYTES``: fetching it again gives the same size, so the hook
    does not retry it (unlike other payload errors, which may be a truncated transfer)."""


class GenesysPageLimitError(GenesysPayloadError):
    """A paginator went past ``GENESYS_MAX_PAGES`` (endless ``nextUri``, a huge ``pageCount``, ever-new
    cursors): a server bug or a hostile answer must not page forever."""


class GenesysCeilingError(GenesysError):
    """A single UTC day has more than the sync details query's 100,000-result ceiling.

    The caller should use the async details job with ``startOfDayIntervalMatching`` for that day.
    """

    def __init__(self, day: str, total_hits: int, ceiling: int) -> None:
        where = f"interval {day}" if "/" in day else f"UTC day {day}"
        super().__init__(
            f"Genesys Cloud details query for {where} has {total_hits} results, over the sync "
            f"ceiling of {ceiling}: use the async details job (startOfDayIntervalMatching) for that day"
        )
        self.day = day
        self.total_hits = total_hits
        self.ceiling = ceiling


class GenesysApiError(GenesysError):
    """An HTTP error answer from the API, with the fields of its ErrorBody."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        context_id: str | None = None,
        endpoint: str = "",
        body: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.context_id = context_id
        self.endpoint = endpoint
        self.body = body or {}
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"Genesys Cloud {self.status}"
        if self.code:
            text += f" {self.code}"
        if self.endpoint:
            text += f" on {self.endpoint}"
        text += f": {self.message or 'no error message'}"
        if self.context_id:
            text += f" (contextId {self.context_id})"
        return text


class GenesysValidationError(GenesysError, AirflowFailException):
    """A request or parameter was rejected before anything was sent (never retried by Airflow)."""


class GenesysBadRequestError(GenesysApiError, AirflowFailException):
    """400: the request is invalid; retrying will not help (Airflow fails the task without retry)."""


class GenesysAuthError(GenesysApiError):
    """401 (after one re-authentication) or a rejected token request: bad client id/secret or region."""


class GenesysForbiddenError(GenesysApiError, AirflowFailException):
    """403: the OAuth client's roles lack a permission (see the README's permission table); not retried."""


class GenesysNotFoundError(GenesysApiError, AirflowFailException):
    """404: the entity or endpoint does not exist; not retried when it escapes a task."""


class GenesysConflictError(GenesysApiError):
    """409: the ``version`` sent is stale; re-read the entity, re-plan, and PUT again (bounded)."""


class GenesysRateLimitError(GenesysApiError):
    """429: over the token's request budget; ``retry_after`` holds the server's Retry-After seconds."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class GenesysRetryAfterTooLongError(GenesysRateLimitError):
    """A 429 whose Retry-After exceeds ``GENESYS_RETRY_AFTER_MAX_S``: the call fails (naming the advertised
    wait) instead of stalling the token's every request for that long; not retried inside the hook."""


class GenesysServerError(GenesysApiError):
    """5xx: a server-side failure; reads retry it, writes do not."""


_BY_STATUS: dict[int, type[GenesysApiError]] = {
    400: GenesysBadRequestError,
    401: GenesysAuthError,
    403: GenesysForbiddenError,
    404: GenesysNotFoundError,
    409: GenesysConflictError,
    429: GenesysRateLimitError,
}


def error_class_for(status: int) -> type[GenesysApiError]:
    """The exception class for an HTTP status (5xx -> server error, other 4xx -> the generic API error)."""
    if status >= 500:
        return GenesysServerError
    return _BY_STATUS.get(status, GenesysApiError)


class GenesysJobError(GenesysError):
    """An async analytics job or a reporting export ended in failure, timed out, or sent an unusable event."""


class GenesysDataNotAvailableError(GenesysError):
    """The window ends after the datalake's ``dataAvailabilityDate``: the async job would miss data.

    Retryable on purpose (not fail-fast): the task's retries try again once the data has landed."""


class ObjectStoreError(GenesysError):
    """Publishing, reading or presigning outputs failed."""


class PresignError(ObjectStoreError):
    """``S3Hook.generate_presigned_url`` returned None (it logs the cause and swallows it)."""


class WebhookError(GenesysError):
    """A delivery that cannot succeed (bad config, 4xx, or retries exhausted)."""


class WebhookSignatureError(WebhookError):
    """A signature header that does not match the body, the secret or the time tolerance."""


class AuditError(GenesysError):
    """The audit trail refused a row or could not be reached."""
