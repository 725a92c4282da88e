"""Whether an SQS queue policy lets EventBridge send a rule's events, as IAM would decide it.

EventBridge needs the queue's resource policy to allow ``events.amazonaws.com`` to
``sqs:SendMessage`` (an identity policy cannot grant a service principal). An explicit ``Deny``
wins; otherwise one ``Allow`` must match principal, action, resource and every condition. The
condition operators EventBridge subscriptions use are understood (``ArnEquals``/``ArnLike``,
``StringEquals``/``StringLike`` and their negations, on ``aws:SourceArn``/``aws:SourceAccount``);
a condition on anything else is taken the safe way: such an ``Allow`` grants nothing and such a
``Deny`` denies.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

EVENTS_PRINCIPAL = "events.amazonaws.com"
SEND_MESSAGE = "sqs:SendMessage"


def _listed(value: Any) -> list[str]:
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _like(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "ArnEquals": str.__eq__,
    "StringEquals": str.__eq__,
    "ArnLike": _like,
    "StringLike": _like,
}


def _principal_matches(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return EVENTS_PRINCIPAL in _listed(principal.get("Service", [])) or "*" in _listed(
        principal.get("AWS", [])
    )


def _action_matches(actions: Any) -> bool:
    return any(_like(action.lower(), SEND_MESSAGE.lower()) for action in _listed(actions))


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool | None:
    """True/False, or None when a condition cannot be evaluated here."""
    for operator, tests in conditions.items():
        negated = operator.startswith(("ArnNot", "StringNot"))
        base = operator.replace("Not", "", 1) if negated else operator
        compare = _OPERATORS.get(base)
        if compare is None or not isinstance(tests, dict):
            return None
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                return None
            found = any(compare(pattern, actual) for pattern in _listed(expected))
            if found is negated:
                return False
    return True


def allows_eventbridge(policy: str | None, *, queue_arn: str, rule_arn: str, account: str) -> bool:
    """Whether ``policy`` (the queue's ``Policy`` attribute) lets the rule send to the queue."""
    if not policy:
        return False
    try:
        document = json.loads(policy)
    except ValueError:
        return False
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    context = {"aws:sourcearn": rule_arn, "aws:sourceaccount": account}
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            continue
        applies = (
            _principal_matches(statement.get("Principal"))
            and _action_matches(statement.get("Action", []))
            and any(
                _like(resource, queue_arn) for resource in _listed(statement.get("Resource", "*"))
            )
        )
        if not applies:
            continue
        holds = _conditions_hold(statement.get("Condition", {}), context)
        if statement.get("Effect") == "Deny" and holds is not False:
            return False
        allowed = allowed or (statement.get("Effect") == "Allow" and holds is True)
    return allowed
