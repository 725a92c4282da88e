"""Writes that meet another transaction on the same item: tried again, then a 409, never a 500.

DynamoDB cancels a transaction that touches an item another transaction is writing (cancellation
reason ``TransactionConflict``) and refuses a single-item write to such an item
(``TransactionConflictException``). botocore retries neither. A cancelled or refused write wrote
nothing, so the DynamoDB client sends it again after a short, jittered wait (``retry_conflicts``,
registered where the functions' clients are made); if the item is still contended after that,
the repositories raise ``WriteContention``, which the API answers with 409.
"""

from __future__ import annotations

import random
from typing import Any

from botocore.exceptions import ClientError

from domain.errors import WriteContention

ATTEMPTS = 4
BASE_DELAY_S = 0.025


def _conflict(error_code: str | None, reasons: list[dict[str, Any]]) -> bool:
    if error_code == "TransactionConflictException":
        return True
    codes = {reason.get("Code") for reason in reasons}
    # A failed condition is an answer, not contention: the caller handles it.
    return (
        error_code == "TransactionCanceledException"
        and "TransactionConflict" in codes
        and "ConditionalCheckFailed" not in codes
    )


def is_contention(error: ClientError) -> bool:
    response: Any = error.response
    return _conflict(response.get("Error", {}).get("Code"), response.get("CancellationReasons", []))


def raise_if_contention(error: ClientError) -> None:
    """WriteContention for a write still contended after the client's own retries."""
    if is_contention(error):
        raise WriteContention from error


def _retry_delay(response: Any, attempts: int, **_: Any) -> float | None:
    """A botocore ``needs-retry`` handler: seconds to wait before sending a contended write
    again, or None to leave the decision to botocore's own retry rules."""
    if response is None or attempts >= ATTEMPTS:
        return None
    parsed = response[1]
    if not _conflict(parsed.get("Error", {}).get("Code"), parsed.get("CancellationReasons", [])):
        return None
    return random.uniform(0, BASE_DELAY_S * 2**attempts)  # noqa: S311 - jitter, not a secret


def retry_conflicts(dynamodb: Any) -> None:
    """Makes ``dynamodb`` (a botocore client) send contended writes again, ATTEMPTS in all."""
    dynamodb.meta.events.register("needs-retry.dynamodb", _retry_delay)


def cancellation_codes(error: ClientError) -> list[str]:
    """Why each item of a cancelled transaction was refused, in the transaction's order."""
    reasons = error.response.get("CancellationReasons", [])
    return [reason.get("Code", "None") for reason in reasons]
