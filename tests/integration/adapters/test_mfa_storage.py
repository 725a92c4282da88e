"""The MFA state on the user item and the ``mfa_token`` challenges, against moto: what is stored
reads back the same, and the conditional writes refuse replays and reused challenges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.dynamodb_mfa_challenges import DynamoDBMfaChallengeStore, challenge_key
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from adapters.mail_outbox import MAIL_KEY_PREFIX
from domain.mail import MailKind, user_message
from domain.mfa_state import MfaSecrets
from domain.mfa_uses import MfaChallenge, RecoveryCodeUsed, TotpStepUsed
from domain.users import User, UserAccount
from userflow.stack import Stack

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SEALED = "v1.0123abcd.c2VhbGVk"
CODES = frozenset({"aa" * 32, "bb" * 32})


@pytest.fixture
def users(stack: Stack) -> DynamoDBUserRepository:
    return DynamoDBUserRepository(
        stack.physical_id("UserRegistrationTable"), cursor_key=lambda: b"k"
    )


@pytest.fixture
def challenges(stack: Stack) -> DynamoDBMfaChallengeStore:
    return DynamoDBMfaChallengeStore(stack.physical_id("UserRegistrationTable"))


def _enrolled(users: DynamoDBUserRepository) -> UserAccount:
    user = User(id="u-1", email="ann@example.com", name="Ann", created_at=NOW, updated_at=NOW)
    account = UserAccount(user=user, password_hash="$argon2id$x")
    users.add(account)
    enabled = account.model_copy(
        update={
            "user": user.model_copy(update={"mfa_enabled": True, "version": 2}),
            "mfa": MfaSecrets(totp_secret=SEALED, totp_last_step=100, recovery_codes=CODES),
        }
    )
    users.save(enabled, account)
    return users.get("u-1")


def _challenge(token_hash: str = "h" * 64) -> MfaChallenge:
    return MfaChallenge(
        token_hash=token_hash,
        user_id="u-1",
        session_generation=0,
        expires_at=NOW + timedelta(minutes=5),
    )


def test_given_mfa_state_when_saved_then_it_reads_back_the_same(
    users: DynamoDBUserRepository,
) -> None:
    account = _enrolled(users)
    pending = account.mfa.model_copy(
        update={"totp_pending": "v1.x.y", "totp_pending_expires_at": NOW}
    )
    users.save(account.model_copy(update={"mfa": pending}), account)

    stored = users.get("u-1")

    assert stored.user.mfa_enabled is True
    assert stored.mfa == pending
    off = stored.model_copy(
        update={"user": stored.user.model_copy(update={"version": 3}), "mfa": MfaSecrets()}
    )
    users.save(off, stored)
    assert users.get("u-1").mfa == MfaSecrets()


def test_given_a_challenge_when_failures_reach_the_limit_then_it_is_gone(
    challenges: DynamoDBMfaChallengeStore,
) -> None:
    challenge = _challenge()
    challenges.create(challenge)

    for _ in range(4):
        challenges.record_failure(challenge, 5)
    assert challenges.find(challenge.token_hash) == MfaChallenge(
        **{**challenge.__dict__, "failures": 4}
    )
    challenges.record_failure(challenge, 5)

    assert challenges.find(challenge.token_hash) is None
    challenges.record_failure(challenge, 5)  # nothing left to count on: no error


def test_given_a_time_step_when_used_then_that_step_and_older_ones_are_refused(
    users: DynamoDBUserRepository, challenges: DynamoDBMfaChallengeStore
) -> None:
    _enrolled(users)
    for token_hash in ("a" * 64, "b" * 64, "c" * 64, "d" * 64):
        challenges.create(_challenge(token_hash))

    assert challenges.complete(_challenge("a" * 64), TotpStepUsed("u-1", 101, SEALED))
    assert not challenges.complete(_challenge("b" * 64), TotpStepUsed("u-1", 101, SEALED))
    assert not challenges.complete(_challenge("c" * 64), TotpStepUsed("u-1", 100, SEALED))
    # A secret replaced since the code was checked (MFA reset and enrolled again): refused.
    assert not challenges.complete(_challenge("d" * 64), TotpStepUsed("u-1", 102, "v1.other"))
    assert users.get("u-1").mfa.totp_last_step == 101
    # Refused writes left their challenges alive; the used one is gone.
    assert challenges.find("a" * 64) is None
    assert challenges.find("b" * 64) is not None


def test_given_a_recovery_code_when_used_then_struck_once_and_the_user_mailed_with_it(
    stack: Stack, users: DynamoDBUserRepository, challenges: DynamoDBMfaChallengeStore
) -> None:
    account = _enrolled(users)
    challenges.create(_challenge("a" * 64))
    challenges.create(_challenge("b" * 64))
    notice = user_message(MailKind.RECOVERY_CODE_USED, account.user)

    used = challenges.complete(_challenge("a" * 64), RecoveryCodeUsed("u-1", "aa" * 32, notice))
    again = challenges.complete(_challenge("b" * 64), RecoveryCodeUsed("u-1", "aa" * 32, notice))

    assert (used, again) == (True, False)
    assert users.get("u-1").mfa.recovery_codes == frozenset({"bb" * 32})
    db = stack.client("dynamodb")
    table = stack.physical_id("UserRegistrationTable")
    mail = db.get_item(
        TableName=table,
        Key={"PK": {"S": f"{MAIL_KEY_PREFIX}{notice.message_id}"}, "SK": {"S": "MAIL"}},
    )
    assert mail["Item"]["kind"]["S"] == "recovery_code_used"
    assert "Item" in db.get_item(TableName=table, Key=challenge_key("b" * 64))


def test_given_the_last_recovery_code_when_used_then_none_are_left(
    users: DynamoDBUserRepository, challenges: DynamoDBMfaChallengeStore
) -> None:
    account = _enrolled(users)
    for token_hash, code in (("a" * 64, "aa" * 32), ("b" * 64, "bb" * 32)):
        notice = user_message(MailKind.RECOVERY_CODE_USED, account.user)
        challenges.create(_challenge(token_hash))
        assert challenges.complete(_challenge(token_hash), RecoveryCodeUsed("u-1", code, notice))

    assert users.get("u-1").mfa.recovery_codes == frozenset()


def test_given_mfa_turned_on_and_a_recovery_code_used_then_their_security_events(
    stack: Stack, users: DynamoDBUserRepository, challenges: DynamoDBMfaChallengeStore
) -> None:
    """MfaEnabled with the enrolment's UserUpdated; RecoveryCodeUsed, at the next version, with
    how many codes are left; a code refused as already used publishes nothing."""
    from adapters.stream_records import events_of_record
    from samlocal.stream_mapping.lambda_record import as_lambda_record
    from tests.integration.dlq.test_dlq_replay import _stream

    account = _enrolled(users)
    notice = user_message(MailKind.RECOVERY_CODE_USED, account.user)
    challenges.create(_challenge("a" * 64))
    challenges.create(_challenge("b" * 64))
    use = RecoveryCodeUsed("u-1", "aa" * 32, notice, account.user.version, remaining=1)
    assert challenges.complete(_challenge("a" * 64), use)
    assert not challenges.complete(_challenge("b" * 64), use)

    arn, _, records = _stream(stack)
    published = [
        (str(e.detail_type), e.detail.model_dump(mode="json"))
        for r in records
        for e in events_of_record(as_lambda_record(r, arn))
    ]

    assert [kind for kind, _ in published] == [
        "UserCreated",
        "UserUpdated",
        "MfaEnabled",
        "RecoveryCodeUsed",
    ]
    used = published[-1][1]
    assert (used["remaining"], used["user"]["version"]) == (1, 3)
    assert used["actor"] == {"type": "user", "id": "u-1"}
    assert users.get("u-1").user.version == 3
