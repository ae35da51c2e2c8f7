"""`services_and`: the run's first node looks its services up and does its own work in one trip."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from langgraph.runtime import Runtime

import graph.services as services_module
from graph.context import Context
from graph.services import Services, services_and, services_for


class Control:
    """Stands for the `RunControl` LangGraph makes per run."""


async def test_the_work_runs_on_the_thread_that_looked_the_services_up(context: Context) -> None:
    runtime = Runtime(context=context, control=Control())  # type: ignore[arg-type]
    seen: list[tuple[Services, int]] = []

    def work(services: Services) -> str:
        seen.append((services, threading.get_ident()))
        return services.source

    services, source = await services_and(runtime, work)
    assert source == services.source and seen[0][0] is services
    assert seen[0][1] != threading.get_ident(), "off the event loop"
    assert await services_for(runtime) is services, "remembered for the rest of the run"
    again, _ = await services_and(runtime, work)
    assert again is services and len(seen) == 2


async def test_services_whose_work_failed_are_looked_up_again(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []
    real = services_module.kept_services

    def counted(context: Context, hub: Any = None) -> Any:
        lookups.append(context.home)
        return real(context, hub)

    monkeypatch.setattr(services_module, "kept_services", counted)
    runtime = Runtime(context=context, control=Control())  # type: ignore[arg-type]
    calls: list[Any] = []

    def failing(services: Services) -> None:
        calls.append(services)
        raise RuntimeError("the mailbox is gone")

    with pytest.raises(RuntimeError, match="the mailbox is gone"):
        await services_and(runtime, failing)
    assert len(calls) == 1, "the work ran once"
    services = await services_for(runtime)
    assert services.source == calls[0].source
    assert len(lookups) == 2, "the failed work's services were not kept for the run"
    await services_for(runtime)
    assert len(lookups) == 2, "the new lookup is"
