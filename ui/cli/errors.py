"""What a command tells the user went wrong: one line and exit 2 for a mistake they can fix."""

from __future__ import annotations

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Something the user can fix; printed as one line."""
