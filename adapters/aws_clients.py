"""Cached AWS clients, created on first use so that cold starts import only what they need.

They are botocore's clients (what ``boto3.client`` returns), made by one botocore session:
importing boto3 itself would add its resource layer and s3transfer, ~17 ms of every cold start,
for nothing these functions use; and a session per client would read botocore's endpoint data
again for each (~50 ms of every client after the first). Clients are typed by service name with
the mypy-boto3 stubs (``ClientFactory``), so strict mypy checks every AWS call. The stubs are
imported for type checking only: Lambda does not ship them.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

if TYPE_CHECKING:
    from botocore.session import Session
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

ServiceName = Literal[
    "cloudformation",
    "cloudwatch",
    "cognito-idp",
    "dynamodb",
    "dynamodbstreams",
    "events",
    "lambda",
    "secretsmanager",
    "sesv2",
    "sns",
    "sqs",
    "ssm",
]


class ClientFactory(Protocol):
    """``factory("sqs")`` is an SQS client, typed as such: one overload per service called."""

    @overload
    def __call__(self, service: Literal["cloudformation"]) -> CloudFormationClient: ...
    @overload
    def __call__(self, service: Literal["cloudwatch"]) -> CloudWatchClient: ...
    @overload
    def __call__(self, service: Literal["cognito-idp"]) -> CognitoIdentityProviderClient: ...
    @overload
    def __call__(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def __call__(self, service: Literal["dynamodbstreams"]) -> DynamoDBStreamsClient: ...
    @overload
    def __call__(self, service: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def __call__(self, service: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def __call__(self, service: Literal["secretsmanager"]) -> SecretsManagerClient: ...
    @overload
    def __call__(self, service: Literal["sesv2"]) -> SESV2Client: ...
    @overload
    def __call__(self, service: Literal["sns"]) -> SNSClient: ...
    @overload
    def __call__(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def __call__(self, service: Literal["ssm"]) -> SSMClient: ...


_session_lock = threading.Lock()
"""botocore sessions are not safe to make clients from in two threads at once."""


@cache
def _session() -> Session:
    from botocore.session import Session

    return Session()


@cache
def _cached_client(service: ServiceName) -> Any:
    with _session_lock:
        made = _session().create_client(service)
    if service == "dynamodb":
        from adapters.dynamodb_conflicts import retry_conflicts

        retry_conflicts(made)
    return made


client: ClientFactory = _cached_client


class _Deferred:
    """Stands for ``client(service)``, made on first use."""

    def __init__(self, service: ServiceName) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(_cached_client(self._service), name)


deferred_client: ClientFactory = _Deferred  # type: ignore[assignment]
"""For a client that a function may not need on a request (the first costs ~80 ms to make, each
other ~10 ms)."""


def forget_clients() -> None:
    """Drops every cached client (and its connections) and the session (and the credentials it
    resolved), e.g. after a SnapStart restore: the next call makes new ones."""
    _cached_client.cache_clear()
    _session.cache_clear()
