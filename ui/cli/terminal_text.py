"""Answers and approval cards as plain text for a terminal.

The graph writes Markdown for the chat (bold titles, headings, links, `[msg:ID]` citations);
printed raw by the command line, the markers get in the way of reading. Only the human output
is rendered: `--json` keeps the text exactly as the graph wrote it.
"""

from __future__ import annotations

import re

from graph.grounding import CITATION

CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
"""Inline code: shown as is, its contents never read as emphasis or links."""
LINK = re.compile(r"!?\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"\n]*\")?\s*\)")
BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
# Single markers only at word edges, so `snake_case` and `2 * 3 * 4` stay as written.
STAR_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])")
UNDERSCORE_ITALIC = re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])")
ADDRESS = re.compile(
    r"(?:https?|ftp)://[^\s<>()]+|(?:mailto:)?[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE
)
"""A URL or an e-mail address: its underscores and stars belong to it."""
HEADING = re.compile(r"^(\s{0,3})#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
SET_ASIDE = re.compile("\x00(\\d+)\x00")


def plain_text(markdown: str) -> str:
    """`markdown` without its markers: citations as `[ID]`, links as `text <url>`.

    Line structure, list bullets, quotes and code spans are kept: they read well as they are.
    Code spans, citations, URLs and e-mail addresses are set aside first, so their `_` and `*`
    stay as written.
    """
    kept: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    def cite(match: re.Match[str]) -> str:
        kept.append(f"[{match.group(1)}]")
        return f"\x00{len(kept) - 1}\x00"

    lines = []
    for line in markdown.replace("\x00", "").split("\n"):
        heading = HEADING.match(line)
        if heading:
            line = heading.group(1) + heading.group(2)
        line = CODE_SPAN.sub(set_aside, line)
        line = ADDRESS.sub(set_aside, LINK.sub(_link, CITATION.sub(cite, line)))
        line = BOLD.sub(r"\2", line)
        line = STAR_ITALIC.sub(r"\1", line)
        lines.append(UNDERSCORE_ITALIC.sub(r"\1", line))
    return SET_ASIDE.sub(lambda match: kept[int(match.group(1))], "\n".join(lines))


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    if label == url or label == url.removeprefix("mailto:"):
        return label
    return f"{label} <{url}>"
