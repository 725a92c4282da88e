"""MailSender on SES (API v2 SendEmail): the stack's sender identity and configuration set."""

from __future__ import annotations

from typing import Any

from adapters.aws_clients import client
from domain.mail import MailKind, RenderedMail


class SesMailSender:
    def __init__(self, sender: str, configuration_set: str, ses_client: Any = None) -> None:
        self._sender = sender
        self._configuration_set = configuration_set
        self._ses = ses_client or client("sesv2")

    def send(self, mail: RenderedMail, kind: MailKind) -> str:
        response = self._ses.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [mail.to]},
            Content={
                "Simple": {
                    "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": mail.text, "Charset": "UTF-8"}},
                }
            },
            # The configuration set's event destination counts outcomes per kind.
            EmailTags=[{"Name": "kind", "Value": str(kind)}],
            ConfigurationSetName=self._configuration_set,
        )
        return str(response["MessageId"])
