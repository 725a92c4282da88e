"""Re-driving the mailer's dead letters (`userflow dlq replay`, MailDeadLetterQueue).

The queue holds the on-failure metadata of stream batches the mailer gave up; their records are
re-read from the stream and each message goes through the mailer's own code (render + SES), but a
message whose token was superseded (a newer link was sent, or it was used or expired) is never
sent: its link would be dead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from adapters.dynamodb_user_repository import DynamoDBUserRepository
from adapters.mail_outbox import MAIL_KEY_PREFIX, request_from_image
from adapters.ses_mail_sender import SesMailSender
from domain.errors import UserNotFound
from domain.event_pipeline import sequence_number
from domain.mail import MailDelivery, MailRequest, still_worth_sending
from domain.users import UserAccount
from userflow.functions import function_environment_of
from userflow.stack import Stack

MAILER_FUNCTION = "MailerFunction"


def is_mail_batch(stack: Stack, body: dict[str, Any]) -> bool:
    """Whether an on-failure record came from the mailer's event source mapping."""
    arn = str(body.get("requestContext", {}).get("functionArn", "")).split(":")
    record = stack.resources.get(MAILER_FUNCTION)
    # arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>]
    return record is not None and len(arn) >= 7 and arn[6] == record["physical_id"]


def mailer_environment(stack: Stack) -> dict[str, str]:
    """The mailer's settings: its deployed configuration, or, where the functions do not run in
    Lambda (the local stack), the template's."""
    return function_environment_of(stack, MAILER_FUNCTION)


class MailReplayer:
    def __init__(self, stack: Stack, dry_run: bool, say: Callable[[str], None]) -> None:
        self.stack = stack
        self.dry_run = dry_run
        self.say = say
        self.users = DynamoDBUserRepository(
            stack.physical_id("UserRegistrationTable"),
            cursor_key=lambda: b"",
            db=stack.client("dynamodb"),
        )
        self._mail: MailDelivery | None = None

    def _delivery(self) -> MailDelivery:
        """Read on first use: a run with no mail to send needs neither SES nor the secret."""
        if self._mail is None:
            self._mail = self._connect()
        return self._mail

    def _connect(self) -> MailDelivery:
        environment = mailer_environment(self.stack)
        sender = SesMailSender(
            environment["SENDER_EMAIL"],
            environment["CONFIGURATION_SET"],
            self.stack.client("sesv2"),
        )
        secret_id = environment["MAIL_TOKEN_SECRET_ARN"]

        def key() -> bytes:
            secrets = self.stack.client("secretsmanager")
            return str(secrets.get_secret_value(SecretId=secret_id)["SecretString"]).encode()

        return MailDelivery(sender, environment["FRONTEND_URL"], key)

    def replay(self, records: list[dict[str, Any]]) -> list[str]:
        """Sends what is still worth sending; the sequence numbers of what is left to retry."""
        sent = skipped = 0
        failed: list[str] = []
        for record in records:
            image = record.get("dynamodb", {}).get("NewImage") or {}
            key = image.get("PK", {}).get("S", "")
            if record.get("eventName") != "INSERT" or not key.startswith(MAIL_KEY_PREFIX):
                continue
            # Any failure (SES refusing, the user unreadable, a malformed request) leaves this
            # record for a later run and never stops the others, so what was sent is not resent.
            try:
                was_sent = self._send(image)
            except Exception as error:
                failed.append(sequence_number(record))
                self.say(f"    message {key}: not sent ({type(error).__name__}: {error})")
                continue
            sent += was_sent
            skipped += not was_sent
        verb = "would send" if self.dry_run else "sent"
        self.say(f"    {verb} {sent} message(s), {skipped} superseded, {len(failed)} failed")
        return failed

    def _send(self, image: dict[str, Any]) -> bool:
        """Sends (dry: checks) one mail request; False when it is no longer worth sending."""
        request = request_from_image(image)
        if not still_worth_sending(request, self._account(request), datetime.now(UTC)):
            self.say(f"    {request.kind} {request.message_id}: superseded, not sent")
            return False
        if not self.dry_run:
            self._delivery().deliver(request)
        return True

    def _account(self, request: MailRequest) -> UserAccount | None:
        try:
            return self.users.get(request.user_id)
        except UserNotFound:
            return None
