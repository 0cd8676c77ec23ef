"""One id per request, on its response, on every log line it causes, and in its Celery tasks.

A client may send `X-Request-ID` (1 to 200 printable ASCII characters, no spaces); otherwise
one is made. RequestLogMiddleware sets it for the request's duration; RequestIdFilter puts it
on every log record; the Celery signals below carry it in the headers of each task published
meanwhile, and set it again in the worker while that task runs.
"""

import contextvars
import logging
import re
import uuid
from typing import Any

from celery import signals
from celery.app.task import Task

HEADER = "X-Request-ID"
# The same name in Celery task headers and on log records.
FIELD = "request_id"
_VALID = re.compile(r"[!-~]{1,200}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(FIELD, default=None)


def current() -> str | None:
    return _current.get()


def from_header(value: str | None) -> str:
    """The client's id when it is usable as a header value and a log field, else a new one."""
    if value is not None and _VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def activate(request_id: str | None) -> contextvars.Token:
    return _current.set(request_id)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record logged while one is active."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _current.get()
        if request_id is not None:
            setattr(record, FIELD, request_id)
        return True


@signals.before_task_publish.connect
def _publish_with_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = _current.get()
    if request_id is not None and headers is not None:
        headers.setdefault(FIELD, request_id)


_task_tokens: dict[str, contextvars.Token] = {}


@signals.task_prerun.connect
def _run_with_request_id(task_id: str, task: Task, **_: Any) -> None:
    # An eager task (run by the publisher itself) keeps the id it already has.
    _task_tokens[task_id] = _current.set(task.request.get(FIELD) or _current.get())


@signals.task_postrun.connect
def _end_request_id(task_id: str, **_: Any) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _current.reset(token)
