"""How the command line logs: one line per handled error, the traceback only with `-v`."""

from __future__ import annotations

import logging


class OneLineFormatter(logging.Formatter):
    """Log lines without tracebacks: a handled error is one line; `-v` shows the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's line, with its exception's type and message but not its traceback."""
        if not (record.exc_info or record.exc_text or record.stack_info):
            return super().format(record)
        error = record.exc_info[1] if record.exc_info else None
        brief = logging.makeLogRecord(
            {**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None}
        )
        line = super().format(brief)
        if error is not None and str(error) not in line:
            line += f" ({type(error).__name__}: {' '.join(str(error).split())[:200]})"
        return line
