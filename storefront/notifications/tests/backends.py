from collections.abc import Callable
from smtplib import SMTPRecipientsRefused, SMTPServerDisconnected
from typing import ClassVar

from django.core.mail import EmailMessage
from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend


class BrokenEmailBackend(BaseEmailBackend):
    """An SMTP server that hangs up on every message."""

    def send_messages(self, email_messages) -> int:
        raise SMTPServerDisconnected("Connection unexpectedly closed")


class PickyEmailBackend(locmem.EmailBackend):
    """Refuses any message to a refused@ address, delivers the others (to mail.outbox)."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            if any(to.startswith("refused@") for to in message.to):
                raise SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
        return super().send_messages(email_messages)


class ConnectionCountingBackend(locmem.EmailBackend):
    """locmem with SMTP's connection handling: send_messages() connects for the call unless
    open() was called first. Counts the connections opened (class-wide, reset by the test)."""

    opened = 0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connected = False

    def open(self) -> bool:
        if self.connected:
            return False
        self.connected = True
        type(self).opened += 1
        return True

    def close(self) -> None:
        self.connected = False

    def send_messages(self, email_messages) -> int:
        created = self.open()
        try:
            return super().send_messages(email_messages)
        finally:
            if created:
                self.close()


class HookedEmailBackend(locmem.EmailBackend):
    """locmem that first calls `before_send(message)`, set by the test, for every message."""

    before_send: ClassVar[Callable[[EmailMessage], object] | None] = None

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            if (before_send := type(self).before_send) is not None:
                before_send(message)
        return super().send_messages(email_messages)
