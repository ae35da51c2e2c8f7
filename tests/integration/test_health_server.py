"""`GET /health` and `GET /metrics` on a running LangGraph server, and its background watch:
an SMTP server stopped is seen within one interval and alerted once; restarted, once more."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fakes.smtp_server import SmtpSink
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.integrations.fixtures import WEBHOOK_SECRET
from tests.integration.langgraph_server import LangGraphServer

pytestmark = pytest.mark.integration

INTERVAL = 2.0


def get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers["content-type"], response.read().decode()


def stop_if_running(smtp: SmtpSink) -> None:
    with contextlib.suppress(AssertionError):  # the test stopped it already
        smtp.stop()


def restarted(stopped: SmtpSink) -> SmtpSink:
    """A new SMTP server on the stopped one's port, as a restart of it."""
    again = SmtpSink()
    again.port = again._controller.port = stopped.port
    return again.start()


def smtp_state(url: str) -> str:
    _, _, body = get(f"{url}/health")
    return next(p["state"] for p in json.loads(body)["parts"] if p["part"] == "smtp")


def test_health_and_metrics_follow_an_smtp_server_that_stops(tmp_path: Path) -> None:
    smtp = SmtpSink().start()  # stopped by the test
    with contextlib.ExitStack() as cleanup, WebhookReceiver(WEBHOOK_SECRET) as receiver:
        cleanup.callback(stop_if_running, smtp)
        assert isinstance(receiver, WebhookReceiver)
        env = {
            "SMTP_URL": smtp.url,
            "SMTP_FROM": "dana@northwind.example",
            "WEBHOOK_URL": receiver.url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_EVENTS": "health_changed",
            "SMART_INBOX_HEALTH_INTERVAL": str(INTERVAL),
            "SMART_INBOX_HEALTH_TIMEOUT": "2",
        }
        with LangGraphServer(tmp_path, env=env) as server:
            status, kind, body = get(f"{server.url}/health")
            assert status == 200 and kind.startswith("application/json")
            health = json.loads(body)
            assert health["ok"] is True, body
            assert smtp_state(server.url) == "ok"

            smtp.stop()
            stopped = time.monotonic()
            while smtp_state(server.url) != "down":
                assert time.monotonic() - stopped < INTERVAL + 10, server.log()[-3000:]
                time.sleep(0.2)
            seen_after = time.monotonic() - stopped
            assert seen_after < INTERVAL + 4, seen_after  # one interval, plus the round

            time.sleep(2 * INTERVAL)  # more rounds, the same state: no more alerts
            alerts = [e for e in receiver.events if e.get("event") == "health_changed"]
            assert [[(c["part"], c["to"]) for c in a["changes"]] for a in alerts] == [
                [("smtp", "down")]
            ]

            status, kind, text = get(f"{server.url}/metrics")
            assert status == 200 and kind.startswith("text/plain; version=0.0.4")
            lines = text.splitlines()
            assert 'smart_inbox_health_state{part="smtp",kind="mail",state="down"} 1' in lines
            assert 'smart_inbox_health_state{part="smtp",kind="mail",state="ok"} 0' in lines
            assert "smart_inbox_approvals_pending 0" in lines
            assert "# TYPE smart_inbox_tool_calls_total counter" in lines
            assert any(line.startswith("smart_inbox_health_check_seconds{") for line in lines)

            smtp = restarted(smtp)
            cleanup.callback(smtp.stop)
            back = time.monotonic()
            while smtp_state(server.url) != "ok":
                assert time.monotonic() - back < INTERVAL + 10, server.log()[-3000:]
                time.sleep(0.2)
            time.sleep(2 * INTERVAL)  # back and staying up: one more alert, no other
            alerts = [e for e in receiver.events if e.get("event") == "health_changed"]
            assert [[(c["part"], c["to"]) for c in a["changes"]] for a in alerts] == [
                [("smtp", "down")],
                [("smtp", "ok")],
            ]
