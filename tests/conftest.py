"""Process-wide test settings: fake AWS credentials, cheap password hashing, no X-Ray."""

import os

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
