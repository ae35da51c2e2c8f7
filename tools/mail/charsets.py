"""Text bytes decoded whatever charset they claim, or fail to claim; never raises.

Mislabelled mail is common: declared charsets are tried with UTF-8 and windows-1252 as
fallbacks, and raw 8-bit header bytes are read as the mailer most likely wrote them.
"""

from __future__ import annotations

import codecs
import re

_SURROGATE_RUN = re.compile("[\udc80-\udcff]+")


def _has_surrogates(value: str) -> bool:
    return _SURROGATE_RUN.search(value) is not None


def fix_surrogates(value: str) -> str:
    """Decode raw 8-bit header bytes that the parser smuggled through as surrogates.

    Headers should be ASCII (non-ASCII text goes in RFC 2047 encoded words), but many mailers
    write raw bytes in their own charset, and say nothing about which. Each run of such bytes is
    read on its own: as UTF-8 when it is valid UTF-8, else as windows-1252 (a superset of
    Latin-1 for text), so one header can mix an encoded word, a UTF-8 name and a Latin-1 word.
    """
    return _SURROGATE_RUN.sub(
        lambda run: decode_8bit(run.group().encode("utf-8", "surrogateescape")), value
    )


def decode_8bit(data: bytes) -> str:
    """Bytes in an unknown charset: UTF-8 when valid, else windows-1252, else Latin-1.

    Never fails.
    """
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# --------------------------------------------------------------------------- charsets

_SINGLE_BYTE_PREFIXES = ("ascii", "iso8859", "latin", "cp125", "cp437", "cp850", "koi8", "mac-")


def _codec_name(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text bytes: declared charset, then UTF-8, then cp1252 with replacement.

    Never raises. A single-byte declared charset (latin-1, ascii, cp1252...) cannot detect that
    it is wrong, so valid non-ASCII UTF-8 is preferred over it: mislabelled UTF-8 is far more
    common than latin-1 text that happens to be valid UTF-8. ISO-8859-1 is read as cp1252, as
    browsers do, so the euro sign and curly quotes that mailers put in "latin-1" text survive.
    """
    codec = _codec_name(charset)
    candidates: list[str] = []
    if codec is None or codec.startswith(_SINGLE_BYTE_PREFIXES):
        if not data.isascii():
            candidates.append("utf-8")
        if codec == "iso8859-1":
            candidates.append("cp1252")
    if codec is not None:
        candidates.append(codec)
    candidates.extend(["utf-8", "cp1252"])
    for candidate in dict.fromkeys(candidates):
        try:
            text = data.decode(candidate)
        except (UnicodeError, LookupError):
            continue
        return text.removeprefix("\ufeff")
    return data.decode("cp1252", errors="replace")
