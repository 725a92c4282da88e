"""Mail outbox (table stream, INSERTs of MAIL# items) -> rendered message -> SES.

A message SES does not accept fails its record, so Lambda retries it and, once the retries are
spent, writes the batch to MailDeadLetterQueue (`userflow dlq replay`). A retry starts again from
the lowest failed record, so messages sent after it arrive twice: each sent message is recorded
on its outbox item (``SentMailLedger``) and skipped when it comes again. Logs name the message id
and kind only, never the message text: it carries the token.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from adapters.mail_outbox import SentMailLedger, request_from_image
from adapters.ses_mail_sender import SesMailSender
from domain.mail import MailDelivery, is_synthetic_recipient
from handlers.cold_start import started
from handlers.observability import logger, metrics, traced
from handlers.settings import MailerSettings, load
from handlers.stores import mail_token_key

processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


@cache
def delivery() -> MailDelivery:
    settings = load(MailerSettings)
    sender = SesMailSender(settings.sender_email, settings.configuration_set)
    return MailDelivery(sender, settings.frontend_url, mail_token_key)


@cache
def ledger() -> SentMailLedger:
    return SentMailLedger(load(MailerSettings).table_name)


def send_record(record: DynamoDBRecord) -> None:
    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    try:
        request = request_from_image(image)
    except (ValueError, ValidationError):
        # Retrying cannot make it a message; nothing was promised to anyone from it.
        logger.error("Not a mail request; skipped", extra={"keys": list(image)})
        metrics.add_metric(name="MailSkipped", unit="Count", value=1)
        return
    if is_synthetic_recipient(request.to):
        logger.info("Synthetic recipient (smoke test); not sent", extra={"kind": str(request.kind)})
        metrics.add_metric(name="MailSkipped", unit="Count", value=1)
        return
    described = {
        "message_id": request.message_id,
        "kind": str(request.kind),
        "user_id": request.user_id,
    }
    if ledger().was_sent(request.message_id):
        # A retry of the batch from an earlier record that failed: this one went out already.
        logger.info("Already sent; not sent again", extra=described)
        metrics.add_metric(name="MailSkipped", unit="Count", value=1)
        return
    try:
        ses_id = delivery().deliver(request)
    except Exception as error:
        # The record fails (retried, then dead-lettered); a partial batch is no Lambda error, so
        # this line and MailFailed (alarmed) are where on-call learns of it, and why. The code
        # only: SES's message may quote the recipient ("identities failed the check: ...").
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        logger.error("Mail not sent", extra={**described, "error_code": code})
        metrics.add_metric(name="MailFailed", unit="Count", value=1)
        raise
    ledger().record_sent(request.message_id, ses_id)
    logger.info("Mail sent", extra={**described, "ses_id": ses_id})
    metrics.add_metric(name="MailSent", unit="Count", value=1)


@metrics.log_metrics
def deliver_batch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=send_record, processor=processor, context=context
    )
    return dict(response)


# The rendered message carries the token: it stays out of traces.
handler = started(logger.inject_lambda_context(traced(deliver_batch, capture_response=False)))
