"""Hostile messages: each becomes a row or an error row that names its limit, never a hang.

The corpus is made by code (`tests.hostile_mime`). These tests assert outcomes and reasons;
how long the shapes take is measured by `bench/hostile_mail.py`, not asserted here.
"""

from __future__ import annotations

import logging

import pytest

from tests.hostile_mime import (
    MB,
    SHAPES,
    Shape,
    big_attachment,
    deep_multipart,
    encoded_words,
    huge_subject,
    many_parts,
    nested_divs,
    nested_lists,
    nul_bytes,
    quoted_printable_long_line,
    quoted_printable_soft_breaks,
    text_message,
    unterminated_tags,
)
from tools.mail.headers import bound_header, header_block_end
from tools.mail.limits import (
    TRUNCATED_MARKER,
    Deadline,
    ParseLimitError,
    ParseLimits,
    size_text,
)
from tools.mail.mime import parse_email
from tools.mail.model import Email


def parse(raw: bytes, limits: ParseLimits | None = None) -> Email:
    if limits is None:
        return parse_email(raw, source="maildir:hostile", folder="INBOX", key="k1")
    return parse_email(raw, source="maildir:hostile", folder="INBOX", key="k1", limits=limits)


@pytest.mark.parametrize("shape", SHAPES, ids=[shape.name for shape in SHAPES])
def test_every_hostile_shape_is_a_row_or_an_error_row_with_its_reason(shape: Shape) -> None:
    raw = shape.build()
    email = parse(raw)
    if shape.error:
        assert email.error.startswith(shape.error)
        assert email.body == "" and email.attachments == ()
    else:
        assert email.error == ""
        assert email.body
    # The headers of an error row are still read, so the row says whom it came from.
    assert email.from_addr.endswith("@evil.example")
    assert email.size == len(raw)
    assert email.digest and email.key == "k1"


# -- the limits, at their edges --------------------------------------------------------------


def nested(levels: int) -> bytes:
    """A message `levels` deep: `levels - 1` multiparts around one text part."""
    return deep_multipart(levels - 1)


def test_nesting_up_to_the_limit_is_read_one_more_level_is_not() -> None:
    limits = ParseLimits(max_depth=5)
    assert parse(nested(5), limits).body == "deep inside"
    over = parse(nested(6), limits)
    assert over.error == "too deeply nested: more than 5 levels of MIME parts"
    assert over.subject == "Deep"


def test_part_count_up_to_the_limit_is_read_one_more_part_is_not() -> None:
    limits = ParseLimits(max_parts=11)  # the multipart itself and ten text parts
    assert parse(many_parts(10), limits).body.splitlines()[-1] == "part 9"
    assert parse(many_parts(11), limits).error == "too many parts: more than 11 MIME parts"


def test_decoded_text_up_to_the_limit_is_read_one_more_byte_is_not() -> None:
    limits = ParseLimits(max_text_bytes=1000)
    assert len(parse(text_message(b"x" * 1000), limits).body) == 1000
    assert parse(text_message(b"x" * 1001), limits).error == (
        "body too large: its text decodes to more than 1000 bytes"
    )


def test_attachments_do_not_count_as_text_and_are_sized_without_decoding() -> None:
    email = parse(big_attachment(20 * MB))
    assert email.error == ""
    assert [(a.filename, a.size) for a in email.attachments] == [("big.pdf", 20 * MB)]
    assert email.body == "The file is attached."


def test_a_message_over_the_size_limit_is_listed_from_its_headers() -> None:
    raw = big_attachment(2 * MB)
    email = parse(raw, ParseLimits(max_message_bytes=MB))
    assert (
        email.error == f"too large: the message is {size_text(len(raw))}, more than the 1 MiB read"
    )
    assert (email.subject, email.from_addr) == ("Big attachment", "mallory@evil.example")
    assert email.attachments == ()


def test_a_header_block_over_the_limit_is_an_error_row_with_the_start_of_its_headers() -> None:
    email = parse(huge_subject(MB))
    assert email.error == "headers too large: more than 256 KiB of header lines"
    assert email.from_addr == "mallory@evil.example"
    # The Subject still shows, cut at the header limit, with the marker.
    assert email.subject == "S" * (16 * 1024) + " " + TRUNCATED_MARKER


def test_a_long_header_is_cut_with_a_marker_and_the_message_read() -> None:
    email = parse(huge_subject(20_000))
    assert email.error == ""
    assert email.subject == "S" * (16 * 1024) + " " + TRUNCATED_MARKER
    assert email.body == "The subject is too long."


def test_encoded_words_past_the_limit_are_cut_with_a_marker() -> None:
    email = parse(encoded_words(12_000, compact=True))
    assert email.error == ""
    assert email.subject == "a" * 200 + " " + TRUNCATED_MARKER
    limited = parse(encoded_words(50, compact=True), ParseLimits(max_encoded_words=10))
    assert limited.subject == "a" * 10 + " " + TRUNCATED_MARKER


def test_twenty_thousand_encoded_words_are_an_error_row() -> None:
    email = parse(encoded_words(20_000))
    assert email.error == "headers too large: more than 256 KiB of header lines"
    assert email.subject.endswith(TRUNCATED_MARKER)
    assert email.subject.startswith("abcabc")


def test_the_deadline_stops_a_message_mid_parse() -> None:
    email = parse(quoted_printable_soft_breaks(MB), ParseLimits(max_seconds=1e-9))
    assert email.error == "took too long: parsing stopped after 1e-09 s (the limit per message)"


def test_the_deadline_is_checked_against_its_clock() -> None:
    now = [100.0]
    deadline = Deadline(2.0, clock=lambda: now[0])
    deadline.check()
    now[0] = 102.0
    deadline.check()  # exactly at the deadline is still in time
    now[0] = 102.5
    with pytest.raises(ParseLimitError, match="took too long: parsing stopped after 2 s"):
        deadline.check()


# -- shapes in detail ------------------------------------------------------------------------


def test_nested_lists_give_one_line_per_item() -> None:
    body = parse(nested_lists(20_000)).body
    assert body.split("\n") == ["* item"] * 20_000


def test_fifty_thousand_nested_divs_keep_their_text() -> None:
    assert parse(nested_divs(50_000)).body == "deep text"


def test_a_run_of_unterminated_end_tags_is_dropped() -> None:
    assert parse(unterminated_tags(200_000)).body == "start"


def test_nul_bytes_never_reach_a_field() -> None:
    email = parse(nul_bytes())
    assert (email.subject, email.from_name) == ("zerobytesubject", "Nul Sender")
    assert email.body == "body withnul bytes"
    for value in (email.subject, email.from_name, email.body, *email.headers.values()):
        assert "\x00" not in value


def test_quoted_printable_megabyte_lines_decode_whole() -> None:
    soft = parse(quoted_printable_soft_breaks(3 * MB)).body
    assert soft.endswith("end") and len(soft) == (3 * MB // 70) * 69 + 3
    assert parse(quoted_printable_long_line(3 * MB)).body == "b=" * (3 * MB // 4)


# -- helpers -------------------------------------------------------------------------------


def test_bound_header_cuts_at_characters_or_encoded_words() -> None:
    assert bound_header("short", 10, 5) == "short"
    assert bound_header("x" * 11, 10, 5) == "x" * 10 + " " + TRUNCATED_MARKER
    words = " ".join(["=?utf-8?q?a?="] * 3)
    assert bound_header(words, 100, 3) == words
    assert bound_header(words, 100, 2) == "=?utf-8?q?a?= =?utf-8?q?a?= " + TRUNCATED_MARKER


def test_header_block_end() -> None:
    assert header_block_end(b"A: 1\r\nB: 2\r\n\r\nbody", 100) == 14
    assert header_block_end(b"A: 1\r\n folded\r\nnot a header line\r\n", 100) == 15
    assert header_block_end(b"A: " + b"x" * 200 + b"\r\n\r\n", 100) is None
    assert header_block_end(b"A: 1", 100) == 4


def test_a_limit_error_is_one_warning_line_naming_the_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="tools.mail.mime"):
        parse(deep_multipart(1_000))
    [record] = caplog.records
    assert record.getMessage() == "message k1: too deeply nested: more than 20 levels of MIME parts"
    assert record.exc_info is None


def test_a_recursion_error_past_a_raised_limit_is_one_error_row_and_one_log_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the nesting limit set above what Python's stack allows, the parser itself fails."""
    with caplog.at_level(logging.WARNING, logger="tools.mail.mime"):
        email = parse(deep_multipart(3_000), ParseLimits(max_depth=5_000))
    assert email.error.startswith("could not be parsed: RecursionError: maximum recursion depth")
    assert (email.subject, email.from_addr) == ("Deep", "mallory@evil.example")
    [record] = caplog.records
    assert record.getMessage() == f"message k1: {email.error}"
    # The traceback travels with the record; the command line shows it only with -v.
    assert record.exc_info is not None and record.exc_info[0] is RecursionError
