"""A whole message body is kept once in a thread's evidence: in the record's text, not in its refs.

A record of full messages (`get_email`) shows each body in its `content`, the text the answer
step reads; its `MessageRef` held the same body a second time, and every checkpoint of the
thread carried both. State keeps the ref with a bounded preview and where its body sits in
`content` (`body_at`, `body_chars`); the nodes read the body back from there, so what they
quote and what grounding checks is exactly the text the tool returned. A ref written before
(its `text` the whole body, no `body_at`) is read as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from graph.state import Evidence, MessageRef

PREVIEW_CHARS = 200
"""Characters of a body a ref keeps when its whole text is in the record's `content`."""


def keep_once(record: Evidence) -> Evidence:
    """The record as state keeps it: each whole body its `content` shows cut to a preview.

    Only a body found in `content` is cut (a record of previews, or a tool that renders its
    messages some other way, is kept as it is), so the record never loses a word.
    """
    if record["completeness"] != "COMPLETE" or record["error"]:
        return record
    content = record["content"]
    kept: list[MessageRef] = []
    for message in record["messages"]:
        text = message.get("text") or ""
        at = content.find(text) if len(text) > PREVIEW_CHARS and "body_at" not in message else -1
        if at < 0:
            kept.append(message)
            continue
        ref: MessageRef = {**message, "text": _preview(text)}
        ref["body_at"], ref["body_chars"] = at, len(text)
        kept.append(ref)
    return {**record, "messages": kept}


def whole_message(record: Evidence, message: MessageRef) -> MessageRef:
    """`message` with its whole body, read back from the record's `content` where it is kept."""
    if "body_at" not in message:
        return message
    at, chars = message["body_at"], message.get("body_chars", 0)
    body = record["content"][at : at + chars]
    if len(body) != chars or not body.startswith(_preview_prefix(message["text"])):
        return message  # not the text it pointed at: the preview is all that is certain
    whole: MessageRef = {**message, "text": body}
    whole.pop("body_at", None)
    whole.pop("body_chars", None)
    return whole


def with_bodies(record: Evidence) -> Evidence:
    """The record with every kept-once body back in its ref (the record itself if none is)."""
    if not any("body_at" in message for message in record["messages"]):
        return record
    return {**record, "messages": [whole_message(record, m) for m in record["messages"]]}


def whole_evidence(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Every record with its bodies back, as the engines, grounding and provenance read them."""
    return [with_bodies(record) for record in evidence]


def _preview(text: str) -> str:
    return text[:PREVIEW_CHARS].rstrip() + "…"


def _preview_prefix(preview: str) -> str:
    return preview.removesuffix("…").rstrip()
