"""Text in Jira's Atlassian Document Format (ADF), and the mail an issue carries, written in it.

Jira Cloud takes rich text only as ADF; a mail goes into an issue as its sender, date,
subject, Message-ID (a link when `MAIL_LINK_URL` is set) and the sender's own words.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from memory.mail_tables import TriageRecord
from tools.toolkit import (
    mail_excerpt,
    mail_link,
)

if TYPE_CHECKING:
    from tools.mail.model import Email


def adf_text(text: str, *, strong: bool = False, link: str = "") -> dict[str, Any]:
    """An ADF text node, optionally bold or a link."""
    node: dict[str, Any] = {"type": "text", "text": text}
    marks: list[dict[str, Any]] = []
    if strong:
        marks.append({"type": "strong"})
    if link:
        marks.append({"type": "link", "attrs": {"href": link}})
    if marks:
        node["marks"] = marks
    return node


def adf_paragraphs(text: str) -> list[dict[str, Any]]:
    """Plain text as ADF paragraphs: blank lines split paragraphs, single newlines break lines.

    ADF forbids empty text nodes, so empty lines and paragraphs are left out.
    """
    blocks = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        content: list[dict[str, Any]] = []
        for line in chunk.splitlines():
            if not line.strip():
                continue
            if content:
                content.append({"type": "hardBreak"})
            content.append(adf_text(line.rstrip()))
        if content:
            blocks.append({"type": "paragraph", "content": content})
    return blocks


def adf_document(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """An ADF document (an empty one still holds one empty paragraph, as Jira's editor does)."""
    return {"type": "doc", "version": 1, "content": blocks or [{"type": "paragraph"}]}


def adf_to_text(node: Any) -> str:
    """The readable text of an ADF document (for issues read back from Jira)."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    inner = "".join(adf_to_text(child) for child in node.get("content") or [])
    if kind in ("paragraph", "heading", "blockquote", "codeBlock", "listItem"):
        return inner.strip("\n") + "\n\n"
    return inner


def mail_blocks(
    email: Email, triage: TriageRecord | None, link_template: str
) -> list[dict[str, Any]]:
    """The mail as ADF: who, when, what, its id (or a link to it) and the sender's words."""
    link = mail_link(link_template, email)
    facts = [
        ("From: ", email.sender),
        ("Date: ", email.date or "unknown"),
        ("Subject: ", email.subject or "(no subject)"),
    ]
    content: list[dict[str, Any]] = [adf_text("From the mail", strong=True)]
    for label, value in facts:
        # ADF refuses empty text nodes: a missing value is said, not left blank.
        text = value or "(unknown)"
        content += [{"type": "hardBreak"}, adf_text(label, strong=True), adf_text(text)]
    content += [{"type": "hardBreak"}, adf_text("Message-ID: ", strong=True)]
    content.append(adf_text(email.id, link=link) if link else adf_text(email.id))
    if triage is not None:
        line = f"{triage.priority} priority, {triage.category}: {triage.reason}"
        content += [{"type": "hardBreak"}, adf_text("Triage: ", strong=True), adf_text(line)]
    blocks: list[dict[str, Any]] = [{"type": "paragraph", "content": content}]
    quoted = adf_paragraphs(mail_excerpt(email))
    if quoted:
        blocks.append({"type": "blockquote", "content": quoted})
    return blocks


def mail_text(email: Email, triage: TriageRecord | None, link_template: str) -> str:
    """The same mail block as plain text (for the approval card)."""
    return adf_to_text(adf_document(mail_blocks(email, triage, link_template))).strip()
