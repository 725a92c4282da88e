"""How long an IAM policy of a template may get once deployed: each placeholder (``${AWS::Region}``,
a ``Ref``) at the longest value it may take, against IAM's limits."""

from __future__ import annotations

import json
import re
from typing import Any

# IAM's limits: a managed policy's document, whitespace aside; a role's inline policies together.
MANAGED_POLICY_LIMIT = 6144
INLINE_POLICIES_LIMIT = 10240
# The longest values the template's placeholders may take when it is deployed (stack names are
# limited by the bootstrap template's own pattern).
_LONGEST = {
    "AWS::Partition": "aws-iso-b",
    "AWS::Region": "ap-southeast-7",
    "AWS::AccountId": "123456789012",
}
_LONGEST_OTHER = "x" * 63


def _longest(value: Any) -> Any:
    """``value`` with every intrinsic replaced by the longest text it may become."""
    if isinstance(value, list):
        return [_longest(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return re.sub(r"\$\{([^}]+)\}", lambda m: _LONGEST.get(m[1], _LONGEST_OTHER), text)
    if "Ref" in value or "Fn::GetAtt" in value:
        return _LONGEST.get(str(value.get("Ref")), _LONGEST_OTHER)
    return {key: _longest(item) for key, item in value.items()}


def policy_size(document: Any) -> int:
    """The characters of ``document`` (whitespace aside) at its placeholders' longest values."""
    return len(json.dumps(_longest(document), separators=(",", ":")))
