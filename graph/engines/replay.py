"""A scripted chat model: each model call takes the next line of a JSONL file.

Lines look like `{"node": "select_tools", "content": "...", "tool_calls": [{"name", "args"}]}`.
A line naming a node answers only that node's calls; a line without one answers the next
`select_tools` or `answer` call. When no line is left for a node, `ReplayExhausted` tells the
engine to fall back to the rules. Used for tests, demos and evaluations, for example a
model that obeys a prompt injection.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, PrivateAttr

NODE_KEY = "smart_inbox_node"
NODES_WITHOUT_UNNAMED_LINES = frozenset({"classify"})


class ReplayScriptError(Exception):
    """The script file is missing, malformed, or calls a tool that does not exist."""


class ReplayExhausted(Exception):
    """No scripted line is left for this node: the engine falls back to the rules."""


def load_script(path: Path) -> list[dict[str, Any]]:
    """Read and check a replay script; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ReplayScriptError(f"cannot read replay script {path}: {err.strerror}") from err
    lines: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ReplayScriptError(f"{path}:{number}: not valid JSON ({err.msg})") from err
        if not isinstance(line, dict):
            raise ReplayScriptError(f"{path}:{number}: each line must be a JSON object")
        calls = line.get("tool_calls") or []
        if not isinstance(calls, list) or any(
            not isinstance(c, dict) or not isinstance(c.get("name"), str) for c in calls
        ):
            raise ReplayScriptError(f"{path}:{number}: tool_calls must be a list of {{name, args}}")
        line["_line"] = number
        lines.append(line)
    return lines


class ReplayChatModel(BaseChatModel):
    """Plays a script back, one line per model call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    path: Path
    _lines: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _used: set[int] = PrivateAttr(default_factory=set)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def model_post_init(self, context: Any) -> None:
        """Load the script once, when the model is built."""
        self._lines = load_script(self.path)

    @property
    def _llm_type(self) -> str:
        return "replay"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, AIMessage]:
        """Remember the tools so a scripted call to an unknown one is caught."""
        schemas = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=schemas, **kwargs)

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Runnable[Any, Any]:
        """Parse the line's content, a JSON object, into `schema`."""

        def parse(message: AIMessage) -> Any:
            try:
                data = json.loads(str(message.content))
            except json.JSONDecodeError as err:
                raise ReplayScriptError(
                    f"replay line for structured output is not JSON: {message.content!r}"
                ) from err
            return schema.model_validate(data) if hasattr(schema, "model_validate") else data

        return self | RunnableLambda(parse)

    def _take(self, node: str) -> dict[str, Any]:
        with self._lock:
            for index, line in enumerate(self._lines):
                if index in self._used:
                    continue
                named = line.get("node")
                if named == node or (named is None and node not in NODES_WITHOUT_UNNAMED_LINES):
                    self._used.add(index)
                    return line
        raise ReplayExhausted(f"replay script {self.path} has no line left for {node!r}")

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        node = str((run_manager.metadata if run_manager else {}).get(NODE_KEY, ""))
        line = self._take(node)
        known = {t["function"]["name"] for t in kwargs.get("tools") or []}
        tool_calls = []
        for n, call in enumerate(line.get("tool_calls") or []):
            if call["name"] not in known:
                raise ReplayScriptError(
                    f"{self.path}:{line['_line']}: unknown tool {call['name']!r}; "
                    f"known tools: {', '.join(sorted(known)) or 'none offered at this step'}"
                )
            tool_calls.append(
                {
                    "name": call["name"],
                    "args": dict(call.get("args") or {}),
                    "id": f"replay-{line['_line']}-{n}",
                }
            )
        message = AIMessage(content=str(line.get("content") or ""), tool_calls=tool_calls)
        return ChatResult(generations=[ChatGeneration(message=message)])
