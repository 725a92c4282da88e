"""What the hostile-input tests send to every route, and what a deliberate refusal looks like (a
4xx in the API's error shape).
"""

from __future__ import annotations

from samlocal.apigateway.routes import api_from_template
from samlocal.template import load_template
from tests.support.api_clients import TEMPLATE, ApiResponse

ROUTES = sorted(  # every (method, path) of the template's HTTP API
    {(r.method, r.path) for r in api_from_template(load_template(TEMPLATE)).routes},
)


def fill(path: str, value: str) -> str:
    """The route's path with every parameter set to ``value``."""
    return "/".join(value if part.startswith("{") else part for part in path.split("/"))


LONE_SURROGATE = "\\ud800"  # as a JSON escape: json.loads makes it a lone surrogate


def assert_refused(response: ApiResponse, *statuses: int) -> None:
    assert response.status in statuses, (response.status, response.text[:300])
    assert set(response.json) <= {"message", "details"}
    assert isinstance(response.json["message"], str)
