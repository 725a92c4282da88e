"""Runs `userflow local` as a real subprocess on free ports and drives it over HTTP.

One stack per xdist worker (session scope) keeps the suite fast; tests that need their own
(e.g. with ``--fail-rate``) start one with ``start_local_stack``. Every test creates its own data
(unique emails), so sharing a stack between tests is safe. The tests of any other shared stack (a
module's own, the probe stack) run on one worker, which starts it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.local_stack import LocalStack, start_local_stack
from tests.support.probe_template import write_probe_template


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The worker's shared `userflow local` (default flags)."""
    with start_local_stack(tmp_path_factory.mktemp("userflow-local")) as stack:
        yield stack


@pytest.fixture
def unique_email() -> Callable[[], str]:
    """Emails no other test uses, so tests can share a stack."""
    import uuid

    return lambda: f"e2e-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture(scope="session")
def probe_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """`userflow local` on the probe template, with short client timeouts and 3 workers."""
    directory = tmp_path_factory.mktemp("probe")
    template = write_probe_template(directory / "source")
    arguments = ("--template", str(template), "--client-timeout", "2", "--max-concurrency", "3")
    with start_local_stack(directory, *arguments) as stack:
        yield stack


SHARED_BY_EVERY_WORKER = "local_stack"


@pytest.hookimpl(tryfirst=True)  # before xdist's hook, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Puts the tests of each module- or session-scoped stack but ``local_stack`` in one xdist
    group: spread over the workers, they would start that stack once per worker (each start costs
    seconds of CPU, and the workers that run its functions more). A test already in a group
    keeps it."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        fixtures = getattr(item, "_fixtureinfo", None)
        if fixtures is None:
            continue
        shared = sorted(
            f"{definitions[-1].baseid}::{name}"
            for name, definitions in fixtures.name2fixturedefs.items()
            if name != SHARED_BY_EVERY_WORKER
            and definitions[-1].scope in ("module", "session")
            and definitions[-1].baseid.startswith("tests/e2e")
        )
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))
