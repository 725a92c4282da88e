import pytest

from adapters import aws_clients


@pytest.fixture(autouse=True)
def region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws_clients.forget_clients()


def test_given_a_deferred_client_when_unused_then_no_client_is_made() -> None:
    aws_clients.deferred_client("sqs")

    assert aws_clients._cached_client.cache_info().currsize == 0


def test_given_a_deferred_client_when_used_then_it_is_the_functions_client() -> None:
    deferred = aws_clients.deferred_client("sqs")

    assert deferred.meta is aws_clients.client("sqs").meta
    aws_clients.forget_clients()  # a SnapStart restore: the next use makes a new one
    assert deferred.meta is aws_clients.client("sqs").meta


def test_given_a_client_when_made_then_it_is_botocore_s_without_boto3() -> None:
    made = aws_clients.client("dynamodb")

    assert type(made).__module__ == "botocore.client"
    assert made.meta.region_name == "us-east-1"


def _access_key(made: object) -> str:
    return made._request_signer._credentials.access_key  # type: ignore[attr-defined,no-any-return]


def test_given_two_clients_then_they_share_one_session_and_its_credentials() -> None:
    queues, table = aws_clients.client("sqs"), aws_clients.client("dynamodb")

    assert queues._request_signer._credentials is table._request_signer._credentials  # type: ignore[attr-defined]


def test_given_new_credentials_after_a_restore_when_clients_are_forgotten_then_new_ones_use_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "BEFORE")
    assert _access_key(aws_clients.client("sqs")) == "BEFORE"

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AFTER")
    assert _access_key(aws_clients.client("sqs")) == "BEFORE"  # cached, as in one environment
    aws_clients.forget_clients()  # a SnapStart restore

    assert _access_key(aws_clients.client("sqs")) == "AFTER"
    assert _access_key(aws_clients.client("dynamodb")) == "AFTER"
