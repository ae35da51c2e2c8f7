"""`bench.run_all --only` replaces one section of RESULTS.md and keeps every other one."""

from __future__ import annotations

from pathlib import Path

from bench.run_all import read_sections, report

WRITTEN = "* `python -m bench.scrub --repeats 9` — 2 s (2026-12-03)"
BY_HAND = (
    "* `python -m bench.search --sizes 10000 --only sqlite`, then `--only postgresql`"
    " — 210 s and 330 s (2026-12-03)"
)


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "RESULTS.md"
    path.write_text(
        "# Benchmark results\n\nRuns:\n\n"
        + "\n".join(lines)
        + "\n\n<!-- bench: bench.scrub -->\n## Scrub\n\nfast\n\n"
        + "<!-- bench: bench.search -->\n## Search\n\nrows\n"
    )
    return path


def test_a_section_whose_run_line_was_written_by_hand_is_kept_word_for_word(
    tmp_path: Path,
) -> None:
    sections = read_sections(_file(tmp_path, WRITTEN, BY_HAND))
    assert [s.module for s in sections] == ["bench.scrub", "bench.search"]
    assert sections[1].text == "## Search\n\nrows"
    text = report(sections)
    assert BY_HAND in text.splitlines()
    assert WRITTEN in text.splitlines()
    assert "## Search\n\nrows" in text


def test_a_section_without_any_run_line_is_kept_too(tmp_path: Path) -> None:
    sections = read_sections(_file(tmp_path, WRITTEN))
    assert [s.module for s in sections] == ["bench.scrub", "bench.search"]
    assert "* `python -m bench.search`" in report(sections).splitlines()
