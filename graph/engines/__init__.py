"""Engines: `load_engine(spec)` builds the offline rules, a Groq model, or a replay script.

Nothing is built at import time; nodes call `load_engine` with the run's model spec and data
directory. The Groq key is `GROQ_API_KEY`, else the credential `groq.api_key` in the data
directory's vault: the variable wins here (unlike the integrations' "vault first") because it is
process-wide and also picks the default engine, so a deployment that sets it keeps exactly the
engine it asked for. `auto`, the default spec, is Groq when either holds a key, else `rules`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from graph.engines.base import Engine

AUTO = "auto"
"""The default spec: Groq when a Groq key is found, else the offline rules."""
DEFAULT_GROQ_SPEC = "groq:llama-3.3-70b-versatile"
GROQ_KEY_VARIABLE = "GROQ_API_KEY"
GROQ_KEY_CREDENTIAL = "groq.api_key"


class EngineSpecError(ValueError):
    """The model spec cannot be used (unknown kind, missing key, unreadable script)."""


def groq_api_key(home: str | os.PathLike[str] | None = None) -> str | None:
    """`GROQ_API_KEY`, else the credential `groq.api_key` of the data directory `home`, else None.

    Blocking (the app database and the key file): async code calls it in a thread.

    Raises:
        VaultError: the stored key cannot be read (a wrong key, damage); never its value.
        KeySourceError: no usable key for the vault while a Groq key is stored.

    """
    key = os.environ.get(GROQ_KEY_VARIABLE)
    if key:
        return key
    from memory.vault import open_vault

    return open_vault(home).get(GROQ_KEY_CREDENTIAL)


@functools.cache
def load_engine(spec: str, home: str | None = None) -> Engine:
    """The engine for `auto`, `rules`, `groq:<model>` or `replay:<file.jsonl>`.

    Built once per process, spec and data directory `home` (whose vault may hold the Groq key;
    default `SMART_INBOX_HOME`), so a key stored later is used from the next process on. Blocking
    for `auto` and `groq:` without `GROQ_API_KEY` (the vault is read): nodes reach it through
    `services_for`, which builds in a thread.
    """
    kind, _, rest = spec.partition(":")
    if kind == AUTO and not rest:
        return load_engine(DEFAULT_GROQ_SPEC if groq_api_key(home) else "rules", home)
    if kind == "rules" and not rest:
        from graph.engines.rules import RulesEngine

        return RulesEngine()
    if kind == "groq":
        from graph.engines.groq import build_groq_chat_model
        from graph.engines.model import ModelEngine

        api_key = groq_api_key(home)
        if not api_key:
            raise EngineSpecError(
                f"model {spec!r} needs a Groq key: set {GROQ_KEY_VARIABLE} or store it with "
                f"`smart-inbox credentials set {GROQ_KEY_CREDENTIAL}`"
            )
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
        f"unknown model spec {spec!r}: use auto, rules, groq:<model> or replay:<file.jsonl>"
    )
