"""The chat as a person meets it: from pressing Enter (or a button) to the answer on screen.

Prints a Markdown section for `bench/RESULTS.md` (see `METHOD`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from bench.common import log, summary_ms, table
from tests.browser.chat_driver import ChatPage, ChatServer

USER, PASSWORD = "bench", "bench-password-1"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
QUESTIONS = {
    "attention": "What needs my attention today?",
    "follow-up": "what does the first one say?",
    "summary": "summarize the checkout incident",
    "search": "any invoices?",
    "reply card": "reply to the meeting request from Sofia and say Thursday works",
}
"""Question types, each a phrase a new user typed in the first hour."""
TARGET_TURN_S, TARGET_TRIAGE_S, TARGET_TEXT = 1.5, 2.0, 50_000
METHOD = """`smart-inbox ui` on the bundled demo inbox with no settings at all (offline rules
engine), driven in Debian's Chromium by Playwright at 1280×800. Each round is a new chat of a
new browser context: log in, press "Triage inbox", then ask each question type once (a reply
card is declined before the next question). {rounds} measured rounds after one warm-up round.
A turn is timed from the key press to the moment the new answer is shown and the Stop button is
gone; the triage view from the click on "Triage inbox" to its list being shown."""


def _triage(chat: ChatPage, page: Page) -> float:
    shown = page.get_by_text("messages triaged").count()
    started = time.perf_counter()
    page.get_by_role("button", name="Triage inbox").first.click()
    expect(page.get_by_text("messages triaged")).to_have_count(shown + 1, timeout=60_000)
    page.locator("li.triage-row").last.wait_for()
    elapsed = time.perf_counter() - started
    chat.assert_idle()
    return elapsed


def _decline_cards(chat: ChatPage) -> None:
    """A reply card waits for a decision; declining it keeps the next turn a plain question."""
    while chat.page.get_by_role("button", name="Reject").count():
        chat.click(chat.button("Reject"))


def measure(rounds: int, home: Path) -> tuple[dict[str, list[float]], int]:
    """Seconds per turn by question type, and the page's text after the attention answer."""
    server = ChatServer(home / "home", home / "logs", None)
    server.add_user(USER, PASSWORD)
    server.start()
    times: dict[str, list[float]] = {"triage view": [], **{kind: [] for kind in QUESTIONS}}
    text_size = 0
    try:
        with sync_playwright() as playwright:
            args = ["--no-sandbox"] if os.geteuid() == 0 else []
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
            for round_ in range(rounds + 1):  # round 0 warms up the server and the browser
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                chat = ChatPage(page)
                chat.open(server.base_url, USER, PASSWORD)
                triage = _triage(chat, page)
                turns = {}
                for kind, text in QUESTIONS.items():
                    turns[kind] = chat.ask(text)
                    if kind == "attention" and round_ == rounds:
                        text_size = chat.text_size()
                    _decline_cards(chat)
                if round_:
                    times["triage view"].append(triage)
                    for kind, seconds in turns.items():
                        times[kind].append(seconds)
                log(
                    f"round {round_}: triage {triage:.2f}s "
                    + " ".join(f"{k} {v:.2f}s" for k, v in turns.items())
                )
                context.close()
            browser.close()
    finally:
        server.stop()
    return times, text_size


def markdown(times: dict[str, list[float]], text_size: int, rounds: int) -> str:
    """The section for RESULTS.md."""
    rows = []
    for kind, seconds in times.items():
        stats = summary_ms(seconds)
        target = TARGET_TRIAGE_S if kind == "triage view" else TARGET_TURN_S
        met = "yes" if stats["p95"] <= target * 1000 else "**no**"
        rows.append(
            [kind, stats["n"], f"{stats['p50']:.0f}", f"{stats['p95']:.0f}", f"≤ {target:g} s", met]
        )
    return "\n".join(
        [
            "## The chat in a browser (offline, the demo inbox)",
            "",
            METHOD.format(rounds=rounds),
            "",
            table(["turn", "n", "p50 (ms)", "p95 (ms)", "target p95", "met"], rows),
            "",
            f"Text on the page after the attention answer (welcome, triage list, steps and "
            f"answer): {text_size:,} characters (target under {TARGET_TEXT:,}: "
            f"{'met' if text_size < TARGET_TEXT else '**not met**'}).",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="measured rounds per question")
    args = parser.parse_args(argv)
    if shutil.which(CHROMIUM) is None:
        parser.error(f"Chromium not found at {CHROMIUM!r} (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        times, text_size = measure(args.rounds, Path(tmp))
    print(markdown(times, text_size, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
