"""Keep presigned links (and the AWS access key ids they carry) out of XCom, reprs and logs.

A presigned GET URL grants access to session-level data for up to 7 days to whoever reads it, so it goes
only to the webhook body and the UI's links: everything a task returns or logs is passed through
:func:`withhold_links`. Hand-written (a regex, no library): the markers are fixed by the SigV4/SigV2
presigning formats and by the shape of AWS access key ids.
"""

from __future__ import annotations

import re
from typing import Any

WITHHELD = "<presigned link withheld>"

#: SigV4 (``X-Amz-Signature``/``X-Amz-Credential``) and SigV2 (``Signature`` + ``AWSAccessKeyId``) query
#: markers, and AWS access key ids (long-term ``AKIA…``, temporary ``ASIA…``).
PRESIGNED = re.compile(r"X-Amz-Signature=|X-Amz-Credential=|[?&]Signature=[^&\s]+.*AWSAccessKeyId=|"
                       r"[?&]AWSAccessKeyId=[^&\s]+.*Signature=", re.IGNORECASE)
ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
# The one- and two-pass shapes the secrets scan counts (see tests/e2e/test_secrets.py).
SIGNATURE_VALUE = re.compile(r"X-Amz-Signature=[0-9a-fA-F]{16,}", re.IGNORECASE)


def carries_link(text: str) -> bool:
    """True when ``text`` holds a presigned signature or an AWS access key id."""
    return bool(PRESIGNED.search(text) or ACCESS_KEY_ID.search(text))


def withhold_links(value: Any) -> Any:
    """``value`` with every string that carries a presigned link or an access key replaced by
    :data:`WITHHELD` (dicts, lists and tuples walked; other values returned as they are)."""
    if isinstance(value, str):
        return WITHHELD if carries_link(value) else value
    if isinstance(value, dict):
        return {key: withhold_links(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(withhold_links(item) for item in value)
    return value


def leaks_in(text: str) -> dict[str, int]:
    """How many presigned signatures and AWS access key ids ``text`` holds (the secrets scan's counts)."""
    return {"presigned_signatures": len(SIGNATURE_VALUE.findall(text)),
            "aws_access_key_ids": len(ACCESS_KEY_ID.findall(text))}
