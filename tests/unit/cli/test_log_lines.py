"""The command line's log lines: a handled error is one line; its traceback only with `-v`."""

from __future__ import annotations

import logging
import sys

from ui.cli.logs import OneLineFormatter

FORMAT = "%(levelname)s %(name)s: %(message)s"


def record_with_error() -> logging.LogRecord:
    try:
        raise RecursionError("maximum recursion depth exceeded")
    except RecursionError:
        info = sys.exc_info()
    return logging.LogRecord(
        "tools.mail.mime", logging.WARNING, __file__, 1, "message %s %s", ("k1", "failed"), info
    )


def test_without_v_an_error_is_one_line_with_its_type() -> None:
    line = OneLineFormatter(FORMAT).format(record_with_error())
    assert line == (
        "WARNING tools.mail.mime: message k1 failed "
        "(RecursionError: maximum recursion depth exceeded)"
    )


def test_with_v_the_traceback_is_shown_and_the_one_line_form_does_not_hide_it() -> None:
    record = record_with_error()
    OneLineFormatter(FORMAT).format(record)  # must not leave a cached empty traceback behind
    full = logging.Formatter(FORMAT).format(record)
    assert full.startswith("WARNING tools.mail.mime: message k1 failed\nTraceback")
    assert full.rstrip().endswith("RecursionError: maximum recursion depth exceeded")


def test_a_line_that_names_its_error_already_is_not_repeated() -> None:
    record = record_with_error()
    record.args = ("k1", "could not be parsed: maximum recursion depth exceeded")
    line = OneLineFormatter(FORMAT).format(record)
    assert line == (
        "WARNING tools.mail.mime: message k1 could not be parsed: maximum recursion depth exceeded"
    )
