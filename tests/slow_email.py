"""An email backend for the worker-kill test: slow enough to be killed mid-send.

Each attempt first leaves a marker named after the sending process id in
EMAIL_FILE_PATH/../attempts, so the test knows which process to kill, then waits
SLOW_EMAIL_SECONDS and finally writes the message like Django's file backend.
"""

import os
import time
from pathlib import Path

from django.conf import settings
from django.core.mail.backends import filebased


class SlowFileBackend(filebased.EmailBackend):
    def send_messages(self, email_messages):
        attempts = Path(settings.EMAIL_FILE_PATH).parent / "attempts"
        attempts.mkdir(parents=True, exist_ok=True)
        (attempts / f"{os.getpid()}-{time.monotonic_ns()}").touch()
        time.sleep(float(os.environ.get("SLOW_EMAIL_SECONDS", "3")))
        return super().send_messages(email_messages)
