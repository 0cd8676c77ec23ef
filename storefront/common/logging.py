import json
import logging
import re
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# An email address, as it may appear in a recipient or in a mail server's error message.
_ADDRESS = re.compile(r"([^\s@<>\"',;:]+)@([^\s@<>\"',;:]+)")


def masked_addresses(text: str) -> str:
    """`text` with every email address reduced to its first letter and domain
    (ann@example.com -> a***@example.com): logs name the customer without spelling them out."""
    return _ADDRESS.sub(lambda match: f"{match[1][0]}***@{match[2]}", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, so logs can be grepped by humans and parsed by machines."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class ClientErrorFilter(logging.Filter):
    """A record of a request answered with a 4xx is at most a WARNING, without traceback: the
    client erred, not the server. Django logs a SuspiciousOperation (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, an unknown Host) at ERROR with its traceback although it
    answers 400. Records of 5xx answers, and any without a status, pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = record.stack_info = None
        return True
