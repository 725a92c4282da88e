"""The mail pipeline's failure path and guarantees: SES refusal -> MailDeadLetterQueue ->
`userflow dlq replay` (never a superseded link), least privilege, and forgot-password timing."""

from __future__ import annotations

import io
import json
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from adapters.dynamodb_rate_limiter import DynamoDBRateLimiter
from adapters.dynamodb_token_store import DynamoDBTokenStore
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from domain.account_recovery import AccountRecoveryService, RecoveryLimits
from domain.mail import MailRequest
from domain.mail_limits import MailLimiter
from domain.passwords import PasswordHasher
from handlers import handle_mailer
from samlocal.provision.stacks import stack_resolver
from samlocal.template import load_template
from tests.support.api_clients import TEMPLATE, GatewayClient
from tests.support.mailbox import Mailbox
from userflow.commands.dlq import list_dead_letters, replay
from userflow.stack import Stack

SENDER = "no-reply@example.com"


def _replay(stack: Stack, dry_run: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    code = replay(stack, dry_run, "MailDeadLetterQueue", out, wait_seconds=0)
    return code, out.getvalue()


def _dlq_depth(stack: Stack) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical_id("MailDeadLetterQueue"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _ses_refuses_until_fixed(gateway: GatewayClient) -> Callable[[], None]:
    """The sender identity is gone (SES refuses the mail); the returned call restores it."""
    ses = gateway.stack.client("sesv2")
    ses.delete_email_identity(EmailIdentity=SENDER)

    def restore() -> None:
        ses.create_email_identity(EmailIdentity=SENDER)

    return restore


def test_given_ses_refuses_when_fixed_and_replayed_then_the_message_is_delivered_once(
    gateway: GatewayClient,
) -> None:
    mailbox = Mailbox(gateway.stack, gateway.invoker)
    fix = _ses_refuses_until_fixed(gateway)
    user = gateway.register()
    mailbox.deliver()
    assert mailbox.to(user.email) == []
    assert _dlq_depth(gateway.stack) == 1
    listing = io.StringIO()
    list_dead_letters(gateway.stack, listing)
    assert "MailDeadLetterQueue" in listing.getvalue()
    assert _replay(gateway.stack)[0] == 1  # still refused: the message stays

    fix()
    dry_code, dry_output = _replay(gateway.stack, dry_run=True)
    code, output = _replay(gateway.stack)
    again, _ = _replay(gateway.stack)

    assert (dry_code, code, again) == (0, 0, 0)
    assert "would send 1 message(s)" in dry_output
    assert "sent 1 message(s), 0 superseded" in output
    [mail] = mailbox.to(user.email)
    assert gateway.request("POST", "/auth/verify-email", json={"token": mail.token}).status == 204
    assert _dlq_depth(gateway.stack) == 0
    assert mail.token not in output + dry_output + listing.getvalue()


def test_given_a_newer_link_was_sent_when_replaying_then_the_superseded_one_is_not_sent(
    gateway: GatewayClient,
) -> None:
    mailbox = Mailbox(gateway.stack, gateway.invoker)
    fix = _ses_refuses_until_fixed(gateway)
    user = gateway.register()
    mailbox.deliver()
    fix()
    access = gateway.login(user)["access_token"]
    assert gateway.request("POST", "/auth/verify-email/resend", token=access).status == 202
    [newest] = mailbox.to(user.email)

    code, output = _replay(gateway.stack)

    assert code == 0
    assert "superseded, not sent" in output
    assert mailbox.to(user.email) == [newest]


def test_given_the_mailer_role_when_read_then_it_may_send_only_as_the_stack_identity(
    gateway: GatewayClient,
) -> None:
    template = load_template(TEMPLATE)
    role = stack_resolver(template, gateway.stack).resolve(template.resources["MailerRole"])
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    ses = [s for s in statements if any(a.startswith("ses:") for a in s["Action"])]

    assert [s["Action"] for s in ses] == [["ses:SendEmail"]]
    assert sorted(ses[0]["Resource"]) == [
        f"arn:aws:ses:us-east-1:123456789012:configuration-set/"
        f"{gateway.stack.physical_id('MailConfigurationSet')}",
        f"arn:aws:ses:us-east-1:123456789012:identity/{SENDER}",
    ]


def test_given_known_unknown_disabled_and_limited_addresses_then_forgot_takes_the_same_time(
    gateway: GatewayClient,
) -> None:
    """Measured over many tries: medians apart by less than a tenth of the minimum duration."""
    # Well above what moto takes for the known path on a loaded test machine (DynamoDB: ~30 ms).
    minimum = timedelta(milliseconds=500)
    users = DynamoDBUserRepository(gateway.table, cursor_key=lambda: b"", db=gateway.db)
    service = AccountRecoveryService(
        users=users,
        tokens=DynamoDBTokenStore(gateway.table, gateway.db),
        mail_limiter=MailLimiter(DynamoDBRateLimiter(gateway.table, gateway.db)),
        hasher=PasswordHasher(),
        token_key=lambda: b"unused",
        limits=RecoveryLimits(forgot_min_duration=minimum),
    )
    tries = 8
    # A fresh known user each try, so that the whole work (a new token, its mail) is done.
    known = [gateway.register() for _ in range(tries)]
    disabled = gateway.register()
    admin = gateway.register(admin=True)
    admin_token = gateway.login(admin)["access_token"]
    gateway.request("POST", f"/users/{disabled.id}/disable", token=admin_token)
    limited = gateway.register()
    for _ in range(3):
        service.forgot_password(limited.email, "198.51.100.1")
    durations: dict[str, list[float]] = {"known": [], "unknown": [], "disabled": [], "limited": []}

    for i in range(tries):
        addresses = {
            "known": known[i].email,
            "unknown": f"nobody{i}@example.com",
            "disabled": disabled.email,
            "limited": limited.email,
        }
        for kind, email in addresses.items():
            # A fresh source each time, so that only the per-address limit plays.
            source = f"198.51.100.{10 + i}"
            started = time.perf_counter()
            service.forgot_password(email, source)
            durations[kind].append(time.perf_counter() - started)

    medians = {kind: statistics.median(values) for kind, values in durations.items()}
    print({kind: round(median * 1000, 1) for kind, median in medians.items()}, "ms")
    floor = minimum.total_seconds()
    assert min(min(values) for values in durations.values()) >= floor
    assert max(medians.values()) - min(medians.values()) < floor / 10, medians


def test_given_ses_refuses_when_the_mailer_runs_then_it_logs_why_and_counts_it(
    gateway: GatewayClient,
    function_logs: Callable[[], list[dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    mailbox = Mailbox(gateway.stack, gateway.invoker)
    _ses_refuses_until_fixed(gateway)
    user = gateway.register()

    mailbox.deliver()

    refusals = [line for line in function_logs() if line["message"] == "Mail not sent"]
    assert refusals  # one per attempt: Lambda retries the record
    for refused in refusals:
        assert refused["level"] == "ERROR"
        assert refused["error_code"] == "MessageRejected"
        assert (refused["kind"], refused["user_id"]) == ("verify_email", user.id)
        assert refused["message_id"]
        assert user.email not in json.dumps(refused)  # names the user, not the address or link
    assert '"MailFailed":[1.0]' in capsys.readouterr().out.replace(" ", "")


def test_given_ses_quotes_the_recipient_when_it_refuses_then_the_log_line_does_not(
    gateway: GatewayClient,
    function_logs: Callable[[], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class SandboxedSes:
        """SES's own words for an account in the sandbox: they name the recipient."""

        def deliver(self, request: MailRequest) -> str:
            message = (
                f"Email address is not verified. The following identities failed: {request.to}"
            )
            error = {"Error": {"Code": "MessageRejected", "Message": message}}
            raise ClientError(error, "SendEmail")  # type: ignore[arg-type]

    monkeypatch.setattr(handle_mailer, "delivery", SandboxedSes)
    user = gateway.register()

    Mailbox(gateway.stack, gateway.invoker).deliver()

    refusals = [line for line in function_logs() if line["message"] == "Mail not sent"]
    assert [line["error_code"] for line in refusals[:1]] == ["MessageRejected"]
    assert all(user.email not in json.dumps(line) for line in function_logs())


def test_given_a_batch_whose_middle_message_fails_when_retried_then_no_message_is_sent_twice(
    gateway: GatewayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda retries a partial batch from its lowest failed record: the messages after it were
    sent on the first try and come again; each goes out once."""
    ses = gateway.stack.client("sesv2")
    if SENDER not in {i["IdentityName"] for i in ses.list_email_identities()["EmailIdentities"]}:
        ses.create_email_identity(EmailIdentity=SENDER)  # an earlier test of the module removed it
    first, middle, last = (gateway.register() for _ in range(3))
    real = handle_mailer.delivery  # made inside an invocation, with the mailer's environment
    refused_once: list[str] = []

    class RefusesTheMiddleOnce:
        def deliver(self, request: MailRequest) -> str:
            if request.to == middle.email and not refused_once:
                refused_once.append(request.message_id)
                error = {"Error": {"Code": "Throttling", "Message": "Maximum sending rate"}}
                raise ClientError(error, "SendEmail")  # type: ignore[arg-type]
            return real().deliver(request)

    monkeypatch.setattr(handle_mailer, "delivery", RefusesTheMiddleOnce)
    mailbox = Mailbox(gateway.stack, gateway.invoker)

    mailbox.deliver()

    assert refused_once  # the middle record failed, so the batch was retried from it
    sent = {user.email: len(mailbox.to(user.email)) for user in (first, middle, last)}
    assert sent == {first.email: 1, middle.email: 1, last.email: 1}
