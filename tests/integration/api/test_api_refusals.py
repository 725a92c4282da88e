"""Every API route refuses bad requests exactly as it did under Powertools' resolver.

The answers in tests/integration/api/golden/api_refusals.json were captured from the Powertools
resolver before the functions moved to their own router (handlers/router.py); see
tests/support/api_battery.py. Statuses, headers and bodies must match, byte for byte once
serialised, for every request of the battery on every route of template.yaml.

One change is deliberate: an empty body sent as ``multipart/form-data`` without a boundary made
Powertools raise (a 500, against the contract); the router answers 415 as for any body that is
not JSON.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tests.support.api_battery import GOLDEN, answer, api_routes, battery
from userflow.stack import Stack

SEND_JSON_415 = {
    "statusCode": 415,
    "headers": {"Content-Type": "application/json"},
    "cookies": [],
    "isBase64Encoded": False,
    "body": {"message": "Send the body as JSON (Content-Type: application/json)"},
}


def expected(case: dict[str, Any]) -> dict[str, Any]:
    """The captured answer, or the fix of the one crash it recorded."""
    if case["answer"] == {"raises": "ValueError"}:
        assert case["request"]["headers"] == {"content-type": "multipart/form-data"}
        return SEND_JSON_415
    answer: dict[str, Any] = case["answer"]
    return answer


class Context:
    function_name = "battery"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:battery"
    aws_request_id = "battery"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def test_given_the_battery_of_bad_requests_when_sent_to_every_route_then_answers_are_unchanged(
    stack: Stack,
) -> None:
    requests = list(battery())
    answers = [answer(request, Context()) for request in requests]
    if os.environ.get("UPDATE_GOLDEN") == "1":
        cases = [{"request": r, "answer": a} for r, a in zip(requests, answers, strict=True)]
        lines = ",\n".join(json.dumps(case, ensure_ascii=True) for case in cases)
        GOLDEN.write_text(f"[\n{lines}\n]\n")
    golden: list[dict[str, Any]] = json.loads(GOLDEN.read_text())

    assert [case["request"] for case in golden] == requests, "the battery changed: see GOLDEN"
    changed = [
        (case["request"], expected(case), now)
        for case, now in zip(golden, answers, strict=True)
        if expected(case) != now
    ]
    assert changed == [], f"{len(changed)} answers changed, first: {changed[:3]}"


def test_given_the_golden_answers_then_every_route_of_the_template_is_covered() -> None:
    golden = json.loads(GOLDEN.read_text())
    covered = {(c["request"]["function"], c["request"]["method"]) for c in golden}

    assert {(function, method) for method, _, function in api_routes()} <= covered
