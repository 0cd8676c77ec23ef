from smtplib import SMTPServerDisconnected

from django.core.mail.backends.base import BaseEmailBackend


class BrokenEmailBackend(BaseEmailBackend):
    """An SMTP server that hangs up on every message."""

    def send_messages(self, email_messages) -> int:
        raise SMTPServerDisconnected("Connection unexpectedly closed")
