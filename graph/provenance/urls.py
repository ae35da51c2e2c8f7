r"""Links read the way a browser reads them: the host a click really goes to.

`urllib.parse.urlsplit` splits scheme, user info, host and port; before it runs, `\` becomes
`/` as the WHATWG URL standard does for web links (so `https://evil.example\@trusted.example`
goes to `evil.example`, as in a browser, not to `trusted.example`), and a percent-encoded
host is decoded. Every reading of the host must be trusted for the link to be: a link is
never trusted for the words after `?`, `#` or `@`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from graph.provenance.domains import canonical_domain

URL_IN_TEXT = re.compile(
    r"(?<![\w@.-])(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>\"'`]+", re.IGNORECASE
)
HOST_WITH_PATH = re.compile(
    r"(?<![\w@./:-])(?:[\w-]+\.)+(?:[^\W\d_]{2,63}|xn--[\w-]+)\.?(?::\d{1,5})?[/?#\\][^\s<>\"'`]*"
)
BARE_HOST = re.compile(
    r"(?<![\w@./:-])(?:[\w-]+\.)+(?P<tld>[^\W\d_]{2,63}|xn--[\w-]+)\b(?![@\w(-])"
)
WEB_SCHEMES = frozenset({"http", "https"})
FILE_ENDINGS = frozenset(
    """pdf doc docx xls xlsx ppt pptx csv txt md rst json yaml yml xml html htm js ts py rb go
    java c h cpp cs php sh png jpg jpeg gif svg webp zip gz tar tgz eml ics vcf log ini cfg
    toml lock exe dll msi dmg apk iso mp3 mp4 mov wav avi""".split()
)
"""Endings of file names, which look like domains in text (`report.pdf`, `setup.py`)."""
COMMON_TLDS = frozenset(
    """com net org info biz io co ai app dev me us uk de fr eu nl es it ch at be se no dk fi
    pl cz ru cn jp kr in br au ca nz za xyz top online site link click live shop store
    example test invalid localhost ly gl to sh cc tk ml ga cf gq pw ws su tv fm gg""".split()
)
"""Endings that make a bare `word.word` in text a host worth checking (`evil.example`)."""


@dataclass(frozen=True)
class ParsedUrl:
    """A link and every host it may lead to."""

    url: str
    scheme: str
    hosts: tuple[str, ...]
    """Canonical hosts of every reading; '' for a reading with no usable host."""
    user_info: bool
    """The link has `something@` before its host (the host is what follows the `@`)."""

    @property
    def canonical(self) -> str:
        """The link for exact comparison: scheme and host normalised, no trailing `/`."""
        parts = urlsplit(_readable(self.url))
        host = self.hosts[0] if self.hosts else ""
        port = f":{parts.port}" if _port(parts) else ""
        rest = parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")
        rest += f"#{parts.fragment}" if parts.fragment else ""
        return f"{self.scheme}://{host}{port}{rest}"


def _readable(url: str) -> str:
    text = url.strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*:", text, re.IGNORECASE) or text.lower().startswith("www."):
        text = "http://" + text
    return text


def _port(parts: object) -> int | None:
    try:
        return parts.port  # type: ignore[attr-defined, no-any-return]
    except ValueError:
        return None


def parse_url(url: str) -> ParsedUrl:
    r"""Scheme, every host reading (raw, with `\` as `/`, percent-decoded) and user info."""
    text = _readable(url)
    readings = {text, text.replace("\\", "/")}
    hosts: list[str] = []
    user_info = False
    scheme = ""
    for reading in sorted(readings):
        try:
            parts = urlsplit(reading)
        except ValueError:
            hosts.append("")
            continue
        scheme = parts.scheme.lower()
        user_info = user_info or "@" in parts.netloc
        raw = parts.hostname or ""
        for host in dict.fromkeys((raw, unquote(raw))):
            hosts.append(canonical_domain(host) if host else "")
    return ParsedUrl(url=url, scheme=scheme, hosts=tuple(dict.fromkeys(hosts)), user_info=user_info)


def urls_in_text(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Links in free text with their spans, in order.

    A link has a scheme, starts with `www.`, or is a host with a path or a known ending (a
    file name such as `report.pdf` is not a host).
    """
    found: list[tuple[str, tuple[int, int]]] = []
    taken: list[tuple[int, int]] = []
    for pattern in (URL_IN_TEXT, HOST_WITH_PATH, BARE_HOST):
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(a <= start < b for a, b in taken):
                continue
            value = match.group(0).rstrip(".,;:!?)]}'\"")
            if pattern is BARE_HOST:
                tld = match.group("tld").lower()
                if tld in FILE_ENDINGS or not (tld in COMMON_TLDS or tld.startswith("xn--")):
                    continue
            if (
                pattern is HOST_WITH_PATH
                and value.split(".")[-1].split("/")[0].lower() in FILE_ENDINGS
            ):
                continue
            found.append((value, (start, start + len(value))))
            taken.append((start, start + len(value)))
    return sorted(found, key=lambda item: item[1])
