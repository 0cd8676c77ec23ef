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
