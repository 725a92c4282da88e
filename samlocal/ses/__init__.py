"""SES at run time: a journal of the mail moto's SES accepted (its resources are provisioned by
``samlocal.provision.ses``)."""

from samlocal.ses.journal import MailJournal, read_journal

__all__ = ["MailJournal", "read_journal"]
