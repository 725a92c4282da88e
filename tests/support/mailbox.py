"""Mail sent by the stack in-process: the mailer driven by its own stream mapping, and what moto's
SES accepted, read back (integration tests)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.backends import get_backend
from moto.core.models import DEFAULT_ACCOUNT_ID

from samlocal.functions.in_process import Invoker
from samlocal.provision.stacks import stack_resolver
from samlocal.stream_mapping import StreamPoller, mappings_from_template
from samlocal.template import load_template
from userflow.stack import Stack

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
MAILER = "MailerFunction"
TOKEN_IN_LINK = re.compile(r"[?&]token=([^\s&]+)")


@dataclass(frozen=True)
class SentMail:
    to: list[str]
    subject: str
    text: str

    @property
    def token(self) -> str:
        found = TOKEN_IN_LINK.search(self.text)
        assert found, self.text
        return found.group(1)


class Mailbox:
    def __init__(self, stack: Stack, invoker: Invoker) -> None:
        template = load_template(TEMPLATE)
        mapping = next(
            m
            for m in mappings_from_template(template, stack_resolver(template, stack))
            if m.function == MAILER
        )
        self.stack = stack
        self.poller = StreamPoller(
            mapping,
            invoke=invoker.invoke,
            function_arn=stack.resources[MAILER]["arn"],
            streams_client=stack.client("dynamodbstreams"),
            destination_client=functools.cache(stack.client),
            region=stack.region or "us-east-1",
            retry_delay=0,
        )

    def ses(self) -> Any:
        return get_backend("ses")[DEFAULT_ACCOUNT_ID][self.stack.region or "us-east-1"]

    def deliver(self) -> None:
        """Runs the mailer over everything new in the stream, as its event source mapping would."""
        self.poller.drain()

    def to(self, address: str) -> list[SentMail]:
        self.deliver()
        return [
            SentMail(m.destinations.get("ToAddresses", []), m.subject, m.body)
            for m in self.ses().sent_messages
            if address in m.destinations.get("ToAddresses", [])
        ]

    def last_token(self, address: str) -> str:
        mails = self.to(address)
        assert mails, f"no mail to {address}"
        return mails[-1].token
