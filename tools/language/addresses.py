"""A mail address as it appears in running text (a body, a user's request, an answer)."""

from __future__ import annotations

import re

ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
"""`name@host.tld` inside text: the local part may hold `.`, `+`, `'` and `-`."""
