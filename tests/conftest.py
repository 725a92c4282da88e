"""Process-wide test settings: fake AWS credentials, cheap password hashing, no X-Ray."""

import os
from typing import Any

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        # Tests only: argon2id at 1 MiB, not production's 46 MiB (~140 ms per hash); the template
        # never sets these.
        "USERFLOW_ARGON2_MEMORY_LOG2_KIB": "10",
        "USERFLOW_ALLOW_TEST_HASH_COST": "1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "userflow-tests",
        "POWERTOOLS_METRICS_NAMESPACE": "UserflowTests",
    }
)
for leaked in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(leaked, None)


def _share_one_botocore_loader() -> None:
    """botocore re-reads and re-parses its JSON models (endpoints, each service) for every new
    Session, about a quarter of a provisioned stack's cost; the tests make hundreds of sessions (a
    stack per test, client caches reset between tests), so they share one loader, which only
    caches read-only files."""
    from botocore import loaders, session

    loader = loaders.create_loader()

    def register_data_loader(self: Any) -> None:
        self._components.register_component("data_loader", loader)

    # A private hook of botocore's Session: if an upgrade renames it, say so here.
    assert hasattr(session.Session, "_register_data_loader"), "botocore changed its loader hook"
    setattr(session.Session, "_register_data_loader", register_data_loader)  # noqa: B010


_share_one_botocore_loader()


def pytest_collection_finish() -> None:
    """What collection imported (moto's models, botocore's, every test module) lives to the end:
    frozen out of the cyclic collector, which then scans only what tests make, and less often
    (in-process moto tests allocate much: 8-13 % less CPU on four integration modules, 547 -> 501
    CPU-s for `make test` on a fresh clone)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
