"""A deliberately slow email backend: every message takes EMAIL_SLOW_SECONDS (default 2 s).

Selected with EMAIL_BACKEND=bench.slow_email.SlowEmailBackend for the email-off-the-request-path
scenario. If sending happened inside POST /orders/, its latency would grow by 2 s per order.
"""

import os
import time
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class SlowEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        delay = float(os.environ.get("EMAIL_SLOW_SECONDS", "2"))
        for _message in email_messages:
            time.sleep(delay)
        return len(email_messages)
