"""Prompt text, one module per node; placeholders are filled when the node runs."""

from __future__ import annotations

import re

_MARKER_RUNS = re.compile(r"<{3,}|>{3,}")


def as_data(text: str) -> str:
    """Text from mail or a tool, safe to put between our `<<<… START>>>` / `<<<… END>>>` markers.

    A run of three or more `<` or `>` becomes `«` or `»`, so no message can end the block it is
    shown in (or open another) and write what would read as the prompt's own words.
    """
    return _MARKER_RUNS.sub(lambda m: "«" if m.group(0)[0] == "<" else "»", text)
