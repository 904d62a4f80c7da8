"""The one error every pipeline's param validation raises: it names the offending param."""

from __future__ import annotations


class InvalidParam(ValueError):
    """A trigger param (or the window derived from the params) that cannot be used.

    ``InvalidParam(param, message)`` or ``InvalidParam("param: message")``; ``str(exc)`` starts with
    ``"<param>: "`` and ``exc.param`` is the param's name (dotted for nested ones). Deterministic:
    retrying cannot fix it, so a DAG fails at once on it (``genesys_cloud.dag_support.validated_run``).
    """

    def __init__(self, param_or_message: str, message: str | None = None) -> None:
        if message is None:
            text = param_or_message
            head, sep, _ = text.partition(":")
            self.param = head if sep and head and " " not in head else "params"
        else:
            self.param = param_or_message
            text = f"{param_or_message}: {message}"
        super().__init__(text)
