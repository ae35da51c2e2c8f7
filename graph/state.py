"""The agent's state: what a thread remembers between turns and what Studio shows.

Every value is a plain JSON-able type (dicts, lists, strings) or a LangChain message, so
checkpoints load under strict msgpack deserialisation. The docstring under each field becomes
its description in the graph's JSON schema, which Studio and the server API show; the
`typing_extensions` TypedDict is what lets pydantic build that schema on Python 3.11.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

Mode = Literal["chat", "triage"]
Completeness = Literal["COMPLETE", "PREVIEW"]
DESCRIBED = with_config(ConfigDict(use_attribute_docstrings=True))
"""Field docstrings become schema descriptions."""


@DESCRIBED
class MessageRef(TypedDict):
    """One message as a tool showed it: enough to cite it and to resolve "the second one"."""

    id: str
    sender: str
    subject: str
    date: str
    text: str
    """The preview (about 200 characters) or the full normalised body. In state, a full body
    that the record's `content` shows is kept there only: `text` is its first 200 characters
    and `body_at` says where it is (`graph.evidence_bodies`)."""
    body_at: NotRequired[int]
    """Where this message's whole body starts in its record's `content`."""
    body_chars: NotRequired[int]
    """How long that body is, in characters."""
    priority: NotRequired[str]
    category: NotRequired[str]
    action: NotRequired[str]
    reason: NotRequired[str]
    suspicious: NotRequired[str]
    """Why the triage thinks it is phishing or fraud: its links are never followed."""
    folder: NotRequired[str]
    """The folder it is in when an inbox action moved it out of the inbox (Archive, Snoozed)."""
    reply_to: NotRequired[str]
    account: NotRequired[str]
    """The account it came to, when the inbox is several (`work`); shown as `[work]`."""
    to: NotRequired[str]
    """Recipients of one of the user's own drafts (whose sender reads `you (draft)`)."""
    attachments: NotRequired[list[str]]
    conversation: NotRequired[str]
    """The conversation it belongs to (the id of the conversation's first message)."""
    thread_size: NotRequired[int]
    """How many messages that conversation has."""
    people: NotRequired[list[str]]
    """Who wrote in that conversation, by name (the user is `me`)."""
    answered: NotRequired[bool]
    """The user wrote last in that conversation (a triage run's conversations say it)."""
    decision: NotRequired[str]
    """`respond`, `notify` or `ignore`: the triage's decision (a triage run's conversations)."""


@DESCRIBED
class Evidence(TypedDict):
    """One tool result, kept with its provenance; answers may only use what is in here."""

    id: str
    """`ev-<turn>-<n>`, unique in the thread."""
    tool: str
    args: dict[str, Any]
    at: str
    """When the tool ran (ISO 8601, UTC)."""
    turn: int
    completeness: Completeness
    """COMPLETE when the content is the whole thing (a full message); PREVIEW for excerpts."""
    content: str
    """The result as text, exactly what the answer step is shown."""
    messages: list[MessageRef]
    """The messages the result is about, in the order the tool listed them."""
    error: str
    """Why the call failed; empty on success."""
    data: NotRequired[dict[str, Any]]
    """The tool's structured result (slots, an event, what was sent), when it has one: what
    later steps and the chat read instead of parsing `content` back."""


@DESCRIBED
class ToolCallRequest(TypedDict):
    """A tool call somebody proposed: the model, the rules engine, or follow-up detection."""

    id: str
    name: str
    args: dict[str, Any]
    proposed_by: str


@DESCRIBED
class Decision(TypedDict):
    """What became of a proposed call at the approval step."""

    call_id: str
    action: str
    """The tool's name."""
    args: dict[str, Any]
    """The arguments as approved (edited ones after an `edit`), or as proposed."""
    type: Literal["auto", "accept", "edit", "response", "ignore"]
    """`auto` when policy let a read-only call through without asking."""
    feedback: str
    """The person's text for a `response` decision."""
    by: str
    """`policy` when the policy let it through, `user` when a person decided."""
    level: int
    """The call's policy level: 0 read-only, 1 confirm, 2 autonomous."""
    flags: NotRequired[list[dict[str, Any]]]
    """Provenance flags: arguments whose values did not come from the user."""
    proposed_args: NotRequired[dict[str, Any]]
    """The arguments as proposed, when an `edit` changed them: the proposal counts as decided,
    so it is not proposed again in the same turn."""


@DESCRIBED
class Executed(TypedDict):
    """The outcome of one executed call, for the answer and for `--json`."""

    call_id: str
    action: str
    args: dict[str, Any]
    status: Literal["ok", "error", "unknown"]
    """`unknown`: started before a crash, never finished, and not run again."""
    evidence_id: str
    error: str


@DESCRIBED
class TriageRow(TypedDict):
    """The triage of one message (the shape of `smart-inbox triage --json`)."""

    id: str
    sender: str
    subject: str
    date: str
    priority: str
    category: str
    action: str
    reason: str
    engine: str
    decision: NotRequired[str]
    """`respond`, `notify` or `ignore`: what the reader does with it."""
    suspicious: NotRequired[str]
    """Why it looks like phishing or fraud; absent when it does not."""
    unsure: NotRequired[bool]
    """The engine is unsure: shown to the person, never archived on its own."""
    error: NotRequired[str]


@DESCRIBED
class InputState(TypedDict, total=False):
    """What a caller sends: a user message, or `mode: "triage"` for a triage run."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation: the user's turns and the agent's answers."""
    mode: Mode
    """`chat` (default) answers the last user message; `triage` fetches, classifies and
    summarises."""
    requested_calls: list[dict[str, Any]]
    """Calls the user asked for directly (`{"name", "args"}`, e.g. a suggested action clicked in
    the triage view); they go through approval like any other call."""


@DESCRIBED
class TriageInput(TypedDict, total=False):
    """What the `triage` graph takes: nothing.

    Every run fetches, triages, proposes what the triage suggests (each on an approval card)
    and summarises. It has no `messages`, so a scheduled run on the server can never be
    mistaken for a question.
    """


@DESCRIBED
class State(TypedDict, total=False):
    """The full state of a thread (keys appear as the nodes first write them)."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation: the user's turns and the agent's answers."""
    mode: Mode
    """`chat` or `triage` for the current run."""
    turn: int
    """How many runs this thread has had; numbers the evidence."""
    new_email_ids: list[str]
    """Ids fetched in this run (new since the last fetch of the source)."""
    fetch_errors: list[dict[str, str]]
    """What failed in this run's fetch (`id`, `key`, `error`): a message that could not be read
    (its `id`), the source itself (`id` empty), or snoozed mail that could not be woken (`id`
    empty, `stage` "wake": the fetch itself went through). None of them stops a fetch."""
    untriaged: bool
    """After this run's fetch, the cache holds mail of the source with no triage yet: a chat
    turn goes through `classify` only then (a triage run always does)."""
    triage: list[TriageRow]
    """Triage of the messages classified in this run."""
    evidence: list[Evidence]
    """Every tool result of the thread, oldest first; the only ground truth an answer may use."""
    focus: list[str]
    """Message ids the current user turn refers to ("the second one", "that invoice")."""
    requested_calls: list[dict[str, Any]]
    """Calls the user asked for directly, not yet proposed (see `InputState`)."""
    proposed_calls: list[ToolCallRequest]
    """Calls proposed in the current step, waiting for the approval step."""
    approved_calls: list[ToolCallRequest]
    """Calls cleared to run (by policy or a person), waiting for `act`."""
    decisions: list[Decision]
    """Approval decisions of the current turn."""
    executed: list[Executed]
    """Calls executed in the current turn and how they went."""
    steps: int
    """Tool-selection rounds in the current turn, bounded by the context's `max_steps`."""
    last_round: bool
    """The engine is sure the calls of its last round are all it will propose this turn: once
    they have run (and no event is due), the turn goes straight to its answer."""
    citations: list[str]
    """Message ids the last answer cites."""
    answer_note: str
    """Why the last answer was replaced by a safe, evidence-only answer (empty if it was not)."""
