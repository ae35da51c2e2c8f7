"""HTML mail to readable text in one linear pass, however hostile the markup.

Our own small tokenizer, not a library: html2text's output for unclosed nested lists grows with
the square of their number, and Python 3.11's `html.parser` is quadratic on runs of `</` or `<a`
that never close (measured in `bench/RESULTS.md`, "Hostile mail"). Here every character is
scanned a bounded number of times, nesting is tracked only up to a depth cap, and the output
stops at a size cap.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from tools.mail.limits import (
    DEFAULT_LIMITS,
    TRUNCATED_MARKER,
    Deadline,
    ParseLimits,
)

_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:_-]*)")
# The rest of a tag up to its `>`: quoted values may hold `>`; a quote not right after `=` is
# an ordinary character. Possessive, so a tag that never ends costs one scan, not backtracking.
_TAG_REST = re.compile(r"""(?:[^>"'=]++|=\s*+"[^"]*+"|=\s*+'[^']*+'|[="'])*+>""")
_HREF = re.compile(r"""(?:^|[\s"'/])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_SPACE = re.compile(r"[ \t\n\r\f]+")

SKIPPED = frozenset(
    {"script", "style", "title", "noscript", "template", "iframe", "xmp", "noembed"}
)
"""Elements whose content is never shown to the reader, read through to their end tag and
dropped: a favourite hiding place for instructions aimed at an assistant."""
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "pre"}
    | {"hr", "figure", "form", "fieldset"}
)
"""Blocks set off by a blank line."""
LINES = frozenset(
    {"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "nav", "aside"}
    | {"main", "address", "center", "caption", "figcaption", "details", "summary", "tbody"}
    | {"thead", "tfoot", "option", "body", "html"}
)
"""Blocks that start on a line of their own."""
_CLOSED_BY = {
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "tr": frozenset({"tr", "td", "th"}),
    "option": frozenset({"option"}),
}
"""Start tags that end an open element of these names, as browsers do for mail that never
closes its `<li>` or `<td>`."""
LINK_SCHEMES = ("http://", "https://", "mailto:")
"""Links whose target is shown after their text; others (javascript:, cid:, #anchors) are not."""
MAX_URL_CHARS = 2_000
MAX_QUOTE_LEVELS = 5
"""`> ` marks shown at most for blockquotes this deep, so nesting never multiplies the output."""
_CHECK_EVERY = 256
"""Tags read between two deadline checks."""


@dataclass
class _Row:
    has_text: bool = False
    need_separator: bool = False


@dataclass
class _List:
    ordered: bool
    count: int = 0


@dataclass
class _Link:
    url: str
    text: list[str] = field(default_factory=list)
    size: int = 0


class _Writer:
    """Collects text with the line breaks, list bullets, quote marks and cell separators."""

    def __init__(self, max_chars: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.max_chars = max_chars
        self.full = False
        self.breaks = 0
        self.bullet = ""
        self.quote = 0
        self.pre = 0
        self.rows: list[_Row] = []
        self.link: _Link | None = None
        self._at_line_start = True
        self._space_pending = False

    def block(self, newlines: int) -> None:
        """End the current line; `newlines` 2 leaves a blank line."""
        if self.parts:
            self.breaks = max(self.breaks, newlines)

    def line_break(self) -> None:
        """A `<br>`: one more line end, even right after another."""
        if self.parts:
            self.breaks += 1

    def text(self, data: str) -> None:
        """Add text as it reads on screen: collapsed whitespace outside `<pre>`."""
        if self.full or not data:
            return
        trailing = False
        if not self.pre:
            data = _SPACE.sub(" ", data)
            trailing = data.endswith(" ")
            if data.startswith(" "):
                self._space_pending = True
            data = data.strip(" ")
        self._emit(data.replace("\xa0", " "))
        if trailing:
            self._space_pending = True

    def _emit(self, data: str) -> None:
        if not data:
            return
        chunks: list[str] = []
        if self.breaks:
            chunks.append("\n" * min(self.breaks, 3))
            self.breaks = 0
            self._at_line_start = True
            self._space_pending = False
        row = self.rows[-1] if self.rows else None
        if self._at_line_start:
            chunks.append("> " * min(self.quote, MAX_QUOTE_LEVELS) + self.bullet)
            self.bullet = ""
        elif row is not None and row.need_separator:
            chunks.append(" | ")
        elif self._space_pending:
            chunks.append(" ")
        if row is not None:
            row.has_text = True
            row.need_separator = False
        if self.pre and self.quote and "\n" in data:
            data = data.replace("\n", "\n" + "> " * min(self.quote, MAX_QUOTE_LEVELS))
        chunks.append(data)
        self._at_line_start = False
        self._space_pending = False
        piece = "".join(chunks)
        if self.link is not None and self.link.size < MAX_URL_CHARS:
            self.link.text.append(data)
            self.link.size += len(data)
        if self.size + len(piece) > self.max_chars:
            piece = piece[: max(0, self.max_chars - self.size)]
            self.full = True
        self.parts.append(piece)
        self.size += len(piece)

    def result(self) -> str:
        text = "".join(self.parts)
        lines = [line.strip() for line in text.split("\n")]
        if self.full:
            lines.append(TRUNCATED_MARKER)
        return "\n".join(lines).strip("\n")


class _Converter:
    """One pass over the markup; the element stack holds at most `max_depth` open elements."""

    def __init__(self, limits: ParseLimits, deadline: Deadline | None) -> None:
        self.out = _Writer(limits.max_body_chars)
        self.max_depth = limits.max_html_depth
        self.deadline = deadline
        self.stack: list[str] = []
        self.open: dict[str, int] = {}
        self.lists: list[_List] = []

    def run(self, markup: str) -> str:
        i, n, tags = 0, len(markup), 0
        while i < n and not self.out.full:
            j = markup.find("<", i)
            if j < 0:
                self.out.text(html.unescape(markup[i:]))
                break
            if j > i:
                self.out.text(html.unescape(markup[i:j]))
            tags += 1
            if self.deadline is not None and tags % _CHECK_EVERY == 0:
                self.deadline.check()
            i = self._markup_at(markup, j)
        while self.stack:
            self._pop()
        return self.out.result()

    def _markup_at(self, markup: str, j: int) -> int:
        """Read the markup starting with the `<` at `j`; return where the text goes on."""
        n = len(markup)
        if markup.startswith("<!--", j):
            end = markup.find("-->", j + 4)
            return n if end < 0 else end + 3  # an unclosed comment hides the rest, as on screen
        found = _TAG_NAME.match(markup, j)
        if found is None:
            if markup.startswith(("<!", "<?", "</"), j):
                end = markup.find(">", j)
                return n if end < 0 else end + 1  # a declaration or a bogus comment
            self.out.text("<")
            return j + 1
        rest = _TAG_REST.match(markup, found.end())
        if rest is None:
            # No `>` anywhere after: none of the rest can be a tag, so it is all text.
            self.out.text(html.unescape(markup[j:]))
            return n
        closing, name = found.group(1) == "/", found.group(2).lower()
        end = rest.end()
        if closing:
            self._end_tag(name)
            return end
        self._start_tag(name, markup[found.end() : end - 1])
        if name in SKIPPED:
            close = re.compile(rf"</{name}[\s/>]", re.I).search(markup, end)
            if close is None:
                return n
            self._end_tag(name)
            gt = markup.find(">", close.start())
            return n if gt < 0 else gt + 1
        return end

    def _start_tag(self, name: str, attributes: str) -> None:
        self._close_implied(name)
        self._space_before(name)
        if name == "li":
            self._bullet()
        if name in VOID or len(self.stack) >= self.max_depth:
            return
        self._push(name, attributes)

    def _close_implied(self, name: str) -> None:
        """Close what this tag ends without an end tag (a `<p>` before a block, an open link)."""
        closes = _CLOSED_BY.get(name)
        while closes and self.stack and self.stack[-1] in closes:
            self._pop()
        if name in PARAGRAPHS or name in LINES:
            if self.stack and self.stack[-1] == "p":
                self._pop()
        if name == "a" and self.open.get("a"):
            self._end_tag("a")

    def _space_before(self, name: str) -> None:
        """The line break or blank lines the tag starts with."""
        out = self.out
        if name == "br":
            out.line_break()
        elif name in ("ul", "ol") and self.lists:
            out.block(1)  # a list inside a list item goes on with the next line
        elif name in PARAGRAPHS:
            out.block(2)
        elif name in LINES:
            out.block(1)
        elif name in ("td", "th") and out.rows:
            row = out.rows[-1]
            row.need_separator = row.has_text

    def _push(self, name: str, attributes: str) -> None:
        """Open the element: what it changes in the output lasts until it is closed."""
        out = self.out
        self.stack.append(name)
        self.open[name] = self.open.get(name, 0) + 1
        if name in ("ul", "ol"):
            self.lists.append(_List(ordered=name == "ol"))
        elif name == "tr":
            out.rows.append(_Row())
        elif name == "blockquote":
            out.quote += 1
        elif name == "pre":
            out.pre += 1
        elif name == "a":
            out.link = _Link(_href(attributes))

    def _bullet(self) -> None:
        current = self.lists[-1] if self.lists else None
        if current is not None and current.ordered:
            current.count += 1
            self.out.bullet = f"{current.count}. "
        else:
            self.out.bullet = "* "

    def _end_tag(self, name: str) -> None:
        if not self.open.get(name):
            if name == "br":  # `</br>` is read as `<br>` by browsers
                self.out.line_break()
            elif name == "p":
                self.out.block(2)
            return
        while self.stack:
            if self._pop() == name:
                break

    def _pop(self) -> str:
        name = self.stack.pop()
        self.open[name] -= 1
        out = self.out
        if name in ("ul", "ol"):
            self.lists.pop()
            out.block(1 if self.lists else 2)
            return name
        if name == "tr":
            out.rows.pop()
        elif name == "blockquote":
            out.quote -= 1
        elif name == "pre":
            out.pre -= 1
        elif name == "a":
            self._close_link()
        if name in PARAGRAPHS:
            out.block(2)
        elif name in LINES:
            out.block(1)
        return name

    def _close_link(self) -> None:
        link, self.out.link = self.out.link, None
        if link is None or not link.url:
            return
        text = " ".join("".join(link.text).split())
        shown = link.url.removeprefix("mailto:")
        if not text or text in (shown, link.url) or _bare(text) == _bare(shown):
            return
        self.out.text(" <" + shown + ">")


def _href(attributes: str) -> str:
    """The link target worth showing, or '' (an anchor, a script, a content id...)."""
    found = _HREF.search(attributes)
    if found is None:
        return ""
    url = "".join(html.unescape(next(g for g in found.groups() if g is not None)).split())
    if not url.lower().startswith(LINK_SCHEMES):
        return ""
    if len(url) > MAX_URL_CHARS:
        url = url[:MAX_URL_CHARS] + "…"
    return url


def _bare(url: str) -> str:
    return url.lower().removeprefix("https://").removeprefix("http://").rstrip("/")


def html_to_text(
    markup: str, limits: ParseLimits = DEFAULT_LIMITS, deadline: Deadline | None = None
) -> str:
    """Convert an HTML body to readable text: visible text, with links as `text <url>`.

    Comments, `<script>`, `<style>`, `<title>` and `<noscript>` are dropped: never shown to the
    reader, they are a favourite hiding place for instructions aimed at an assistant. Text
    hidden only by CSS (white or 1px text, `display:none`) is kept on purpose: deciding
    visibility needs a renderer, and the safety checks downstream should see such text rather
    than have it silently vanish. Paragraphs are separated by a blank line, list items start
    with `* ` (or `1. `), blockquotes with `> `, table cells are separated with ` | ` so rows
    stay readable, and images are left out. Linear in the length of `markup`; stops at
    `limits.max_body_chars` with `TRUNCATED_MARKER`, and raises `ParseLimitError` past `deadline`.
    """
    return _Converter(limits, deadline).run(markup)
