"""The threading benchmark runs at a small size and reports what it measured."""

from __future__ import annotations

from bench.threading import RealisticMailbox, run


def test_the_generated_mailbox_has_real_threads_and_is_deterministic() -> None:
    first = RealisticMailbox(seed=7).build(500)
    again = RealisticMailbox(seed=7).build(500)
    assert [e.id for e in first] == [e.id for e in again]
    assert len(first) == 500
    assert any(e.references for e in first) and any(e.folder == "Sent" for e in first)


def test_a_small_run_reports_threading_needs_reply_and_every_adversary() -> None:
    result = run(n=400, repeats=1)
    assert 0 < result["conversations"] < 400
    assert result["needs"] > 0
    assert len(result["adversaries"]) == 4
    # Each adversary adds messages but at most one conversation to the mailbox.
    for added, _, count in result["adversaries"].values():
        assert added > 0 and count <= result["conversations"] + 1
    assert "## Threading and reply tracking of 400 messages" in result["markdown"]
