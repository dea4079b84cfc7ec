"""Logs never carry a key, even in a traceback."""

from __future__ import annotations

import logging

from koda.redaction import RedactingFilter


def test_it_redacts_key_shapes_in_messages_and_tracebacks():
    key = "sk-proj-LoggedByMistake0123456789abcdefWXYZ"
    logger = logging.getLogger("koda.test-redaction")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("calling with %s", key)
        try:
            raise ValueError(f"bad key {key}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert key not in records[0].getMessage() and "[REDACTED]" in records[0].getMessage()
    assert key not in records[1].exc_text and "[REDACTED]" in records[1].exc_text
    formatted = logging.Formatter().format(records[1])
    assert key not in formatted
