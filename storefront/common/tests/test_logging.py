"""Log records of client errors are warnings without tracebacks; server errors keep both."""

import logging
import sys

from storefront.common.logging import ClientErrorFilter


def record(level: int, status: int | None) -> logging.LogRecord:
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    extra = {} if status is None else {"status_code": status}
    return logging.makeLogRecord(
        {"levelno": level, "levelname": logging.getLevelName(level), "exc_info": exc_info, **extra}
    )


def test_a_client_error_is_a_warning_without_traceback():
    for level in (logging.ERROR, logging.CRITICAL):
        logged = record(level, 400)
        assert ClientErrorFilter().filter(logged)
        assert (logged.levelno, logged.levelname, logged.exc_info) == (
            logging.WARNING,
            "WARNING",
            None,
        )


def test_an_info_line_of_a_client_error_stays_info():
    logged = record(logging.INFO, 404)
    assert ClientErrorFilter().filter(logged)
    assert (logged.levelname, logged.exc_info) == ("INFO", None)


def test_server_errors_and_other_records_are_unchanged():
    for status in (500, 503, None):
        logged = record(logging.ERROR, status)
        assert ClientErrorFilter().filter(logged)
        assert logged.levelname == "ERROR"
        assert logged.exc_info is not None


def test_the_log_handler_uses_it():
    handlers = logging.getLogger().handlers
    assert any(
        isinstance(log_filter, ClientErrorFilter)
        for handler in handlers
        for log_filter in handler.filters
    )
