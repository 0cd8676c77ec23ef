"""The default email backend (development, Compose): each message one readable log line."""

import logging
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from storefront.common.logging import masked_addresses

logger = logging.getLogger("storefront.email")


class LogEmailBackend(BaseEmailBackend):
    """Sends nothing: logs each message as one line (settings.LOGGING: JSON on stdout) with its
    subject, sender, recipients (masked, as every address in the logs), body lines, and each
    `X-` header as a field of its own (`X-Order-ID: 12` as `"order_id": 12`).

    Django's console backend prints the raw MIME message instead, which a Celery worker's log
    (stdout redirected into it) turns into one escaped string.
    """

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            headers = {
                name[2:].lower().replace("-", "_"): int(value) if value.isdigit() else value
                for name, value in message.extra_headers.items()
                if name.lower().startswith("x-")
            }
            logger.info(
                "email: %s",
                message.subject,
                extra={
                    "event": "email",
                    "subject": message.subject,
                    "from_email": message.from_email,
                    "to": [masked_addresses(address) for address in message.recipients()],
                    "body": str(message.body).splitlines(),
                    **headers,
                },
            )
        return len(email_messages)
