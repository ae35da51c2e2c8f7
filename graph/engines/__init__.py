"""Engines: `load_engine(spec)` builds the offline rules, a Groq model, or a replay script.

Nothing is built at import time; nodes call `load_engine` with the run's model spec.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from graph.engines.base import Engine


class EngineSpecError(ValueError):
    """The model spec cannot be used (unknown kind, missing key, unreadable script)."""


@functools.cache
def load_engine(spec: str) -> Engine:
    """The engine for `rules`, `groq:<model>` or `replay:<file.jsonl>`, built once per process."""
    kind, _, rest = spec.partition(":")
    if kind == "rules" and not rest:
        from graph.engines.rules import RulesEngine

        return RulesEngine()
    if kind == "groq":
        from graph.engines.groq import build_groq_chat_model
        from graph.engines.model import ModelEngine

        api_key = os.environ.get("GROQ_API_KEY", "")
        if not api_key:
            raise EngineSpecError(f"model {spec!r} needs GROQ_API_KEY in the environment")
        model = build_groq_chat_model(
            rest or "llama-3.3-70b-versatile",
            api_key=api_key,
            base_url=os.environ.get("GROQ_BASE_URL") or None,
        )
        return ModelEngine(model, name=spec)
    if kind == "replay" and rest:
        from graph.engines.model import ModelEngine
        from graph.engines.replay import ReplayChatModel, ReplayScriptError

        try:
            return ModelEngine(ReplayChatModel(path=Path(rest)), name=spec)
        except ReplayScriptError as err:
            raise EngineSpecError(str(err)) from err
    raise EngineSpecError(
        f"unknown model spec {spec!r}: use rules, groq:<model> or replay:<file.jsonl>"
    )
