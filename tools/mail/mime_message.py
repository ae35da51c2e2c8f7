"""The message class the parser builds: a part's content type is worked out once, not ten times.

The feed parser and the body walk ask each part for its content type about ten times, and
each ask scans every header of the part and parses its Content-Type (`email.message`). The
answer changes only when a header or the default type does, so every such change forgets it.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any


class ParsedMessage(EmailMessage):
    """`EmailMessage` whose `get_content_type` is remembered until a header changes."""

    _content_type: str | None = None

    def get_content_type(self) -> str:
        """The part's `maintype/subtype`, lower case, as `EmailMessage` gives it."""
        if self._content_type is None:
            self._content_type = super().get_content_type()
        return self._content_type

    def set_default_type(self, ctype: str) -> None:
        """Set the default type; the content type is worked out again."""
        self._content_type = None
        super().set_default_type(ctype)

    def set_raw(self, name: str, value: Any) -> None:
        """Add a header as the parser read it; the content type is worked out again."""
        self._content_type = None
        super().set_raw(name, value)

    def __setitem__(self, name: str, val: Any) -> None:
        """Add a header; the content type is worked out again."""
        self._content_type = None
        super().__setitem__(name, val)

    def __delitem__(self, name: str) -> None:
        """Remove a header; the content type is worked out again."""
        self._content_type = None
        super().__delitem__(name)

    def replace_header(self, _name: str, _value: Any) -> None:
        """Replace a header in place; the content type is worked out again."""
        self._content_type = None
        super().replace_header(_name, _value)
