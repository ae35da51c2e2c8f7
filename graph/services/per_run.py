"""The services of one graph run, looked up once and shared by the run's nodes.

A chat turn runs seven or eight nodes; each asked for its services, and each time the kept set
was checked (a credentials query, file stamps, the environment's digest), the policy read again
and the MCP tools' fingerprints observed. Within one run none of that can change except by the
run's own side effects, so the run's first node looks them up and the others reuse them; `act`
forgets them after a call with a side effect, so the next node checks afresh. The next run (a
resume after an approval card too) starts from a full check.

A run is told apart by its `RunControl`, the object LangGraph makes for every run and hands,
the same, to each of its nodes. A runtime without one (a node called directly) is never
remembered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from graph.context import Context
from graph.services.build import Services

RUNS_KEPT = 64
"""How many runs' services are remembered at once (runs of concurrent threads each have one)."""


class RunServices:
    """Services by run, at most `size` runs, the least recently used going first; thread-safe.

    Each entry holds its `RunControl`, so the object's `id` cannot be reused while it is here.
    """

    def __init__(self, size: int = RUNS_KEPT) -> None:
        self.size = size
        self._runs: OrderedDict[int, tuple[Any, Context, Services]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)

    def get(self, control: Any, context: Context) -> Services | None:
        """The services this run looked up for `context`, or None."""
        if control is None:
            return None
        with self._lock:
            entry = self._runs.get(id(control))
            if entry is None or entry[0] is not control or entry[1] != context:
                return None
            self._runs.move_to_end(id(control))
            return entry[2]

    def put(self, control: Any, context: Context, services: Services) -> None:
        """Remember `services` for the rest of the run (nothing without a `control`)."""
        if control is None:
            return
        with self._lock:
            self._runs[id(control)] = (control, context, services)
            self._runs.move_to_end(id(control))
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)

    def forget(self, control: Any) -> None:
        """The run's next node checks its services afresh."""
        if control is None:
            return
        with self._lock:
            entry = self._runs.get(id(control))
            if entry is not None and entry[0] is control:
                del self._runs[id(control)]

    def clear(self) -> None:
        """Forget every run's services."""
        with self._lock:
            self._runs.clear()
