"""Cached AWS clients, created on first use so that cold starts import only what they need.

They are botocore's clients (what ``boto3.client`` returns), made by a botocore session: importing
boto3 itself would add its resource layer and s3transfer, ~17 ms of every cold start, for nothing
these functions use. Clients are typed by service name with the mypy-boto3 stubs
(``ClientFactory``), so strict mypy checks every AWS call. The stubs are imported for type
checking only: Lambda does not ship them.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

if TYPE_CHECKING:
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


@cache
def _cached_client(service: ServiceName) -> Any:
    from botocore.session import Session

    made = Session().create_client(service)
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
"""For a client that a function may not need on a request (each costs ~60 ms to make)."""


def forget_clients() -> None:
    """Drops every cached client (and its connections and credentials), e.g. after a SnapStart
    restore: the next call makes a new one."""
    _cached_client.cache_clear()
