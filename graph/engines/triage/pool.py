"""Run the rules over a large triage in forked worker processes, a batch ahead of the caller.

Once the mailbox's profile and the user's corrections are known, the rules are pure CPU work
on each message alone, and they are most of a first triage's time. Workers are forked after
the profile is built, so they start with it (and the rule book) in memory: only the messages
go to them and only the rules' answers come back. A pool that cannot start or breaks costs
nothing but speed: whatever it did not answer is triaged in this process, by the same function.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from graph.engines.triage.verdict import RuleTriage
from tools.mail.model import Email
from tools.mail.parse_pool import MAX_WORKERS, can_parse_in_parallel, usable_cores

logger = logging.getLogger(__name__)

PARALLEL_FROM = 1000
"""Messages from which a triage runs the rules in worker processes."""
CHUNK = 250
"""Messages per task: both workers busy to the end, little sent at once."""

Rules = Callable[[Email], RuleTriage]
_rules: Rules | None = None
"""The rules of the run, in a worker (set when it starts)."""


def _start(rules: Rules) -> None:
    global _rules
    _rules = rules


def _triage_chunk(emails: list[Email]) -> list[RuleTriage]:
    if _rules is None:  # a worker that was not started by `_start`
        raise RuntimeError("the rules were not given to this worker")
    return [_rules(email) for email in emails]


Pending = list[tuple[list[Email], Future[list[RuleTriage]]]]


def rules_in_batches(
    rules: Rules, batches: Iterable[list[Email]], messages: int
) -> Generator[tuple[list[Email], list[RuleTriage]], None, None]:
    """Each batch with `rules` applied to each of its messages, in order.

    With `messages` (how many the batches hold) at `PARALLEL_FROM` or more and more than
    one core, worker processes triage the next batch while the caller works on this one.
    """
    if messages < PARALLEL_FROM or not can_parse_in_parallel():
        for batch in batches:
            yield batch, [rules(email) for email in batch]
        return
    workers = min(MAX_WORKERS, usable_cores())
    batches = iter(batches)
    first = next(batches, None)
    if first is None:
        return
    # What the rules load on first use (the rule book, its patterns) is loaded here, once,
    # and the workers are forked with it, instead of each loading it again.
    for email in first[:1]:
        rules(email)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, context, initializer=_start, initargs=(rules,)) as pool:
        ahead: tuple[list[Email], Pending] | None = None
        for batch in itertools.chain([first], batches):
            submitted = (batch, _submit(pool, batch))
            if ahead is not None:
                yield ahead[0], _answers(rules, ahead[1])
            ahead = submitted
        if ahead is not None:
            yield ahead[0], _answers(rules, ahead[1])


def _submit(pool: ProcessPoolExecutor, batch: list[Email]) -> Pending:
    chunks = [batch[start : start + CHUNK] for start in range(0, len(batch), CHUNK)]
    try:
        return [(chunk, pool.submit(_triage_chunk, chunk)) for chunk in chunks]
    except (BrokenProcessPool, RuntimeError) as err:  # broken, or shut down after breaking
        logger.warning("the triage workers stopped (%s); triaging here", err)
        return [(chunk, _failed(err)) for chunk in chunks]


def _failed(err: BaseException) -> Future[list[RuleTriage]]:
    future: Future[list[RuleTriage]] = Future()
    future.set_exception(err)
    return future


def _answers(rules: Rules, pending: Pending) -> list[RuleTriage]:
    """The workers' answers; a chunk a broken pool lost is triaged here instead."""
    answers: list[RuleTriage] = []
    for chunk, future in pending:
        try:
            answers += future.result()
        except BrokenProcessPool as err:
            logger.warning("a triage worker died (%s); triaging its messages here", err)
            answers += [rules(email) for email in chunk]
    return answers
