"""Secrets scrubbed by value: every form a service could repeat a known secret in is masked."""

from __future__ import annotations

import base64
import json
import logging
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from memory.audit import redact
from memory.db import open_database
from memory.redaction import (
    KNOWN_SECRETS,
    KnownSecrets,
    ScrubSecretsFilter,
    install_log_scrubbing,
    remember_environment,
    scrub,
    scrub_data,
    scrub_messages,
)
from memory.secret_matcher import MIN_SECRET_LENGTH
from memory.secrets import environment_secrets, secret_lookup
from memory.vault import CredentialVault
from tools.api_requests import ApiRequest, send, without_secrets
from tools.http import HttpSettings

TOKEN = "xoxb-7Qz1Tq93c1e9-Mw4k22Pz"
MARK = "[REDACTED:slack.bot_token]"


@pytest.fixture
def known() -> KnownSecrets:
    secrets = KnownSecrets()
    secrets.remember("slack.bot_token", TOKEN)
    return secrets


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"invalid_auth for {TOKEN}", f"invalid_auth for {MARK}"),
        (f"token={TOKEN}&x=1", f"token={MARK}&x=1"),
        (f"abc{TOKEN}xyz", f"abc{MARK}xyz"),
        (f"Bearer {TOKEN}", f"Bearer {MARK}"),
        (f"{TOKEN},{TOKEN} and {TOKEN}", f"{MARK},{MARK} and {MARK}"),
        (f"b64 {b64(TOKEN.encode())} end", f"b64 {MARK} end"),
        (f"b64url {b64url(b'?>' + TOKEN.encode())} end", f"b64url {MARK} end"),
        (f"Basic {b64(('dana@northwind.example:' + TOKEN).encode())}", f"Basic {MARK}"),
        (f"Basic {b64(('someone-else:' + TOKEN).encode())}", f"Basic {MARK}"),
        (f"q={quote(TOKEN, safe='')}", f"q={MARK}"),
        (f"q={quote('/' + TOKEN + '/', safe='')}", f"q=%2F{MARK}%2F"),
        (json.dumps({"echo": TOKEN}), json.dumps({"echo": MARK})),
    ],
    ids=[
        "plain",
        "in a query",
        "inside a longer token",
        "after Bearer",
        "repeated",
        "base64",
        "base64url shifted",
        "basic auth",
        "basic auth of another user",
        "url-encoded",
        "url-encoded inside",
        "json",
    ],
)
def test_a_secret_is_masked_in_every_form(known: KnownSecrets, text: str, expected: str) -> None:
    assert known.scrub(text) == expected


def test_every_character_percent_encoded_or_json_escaped_is_found(known: KnownSecrets) -> None:
    every_char = "".join(f"%{byte:02x}" for byte in TOKEN.encode())
    assert known.scrub(f"[{every_char}]") == f"[{MARK}]"
    middle = len(TOKEN) // 2
    split = f"{TOKEN[:middle]}\\u{ord(TOKEN[middle]):04X}{TOKEN[middle + 1 :]}"
    assert known.scrub(f'{{"e": "{split}"}}') == f'{{"e": "{MARK}"}}'


def test_json_escapes_of_quotes_backslashes_and_non_ascii() -> None:
    known = KnownSecrets()
    secret = 'pa"ss\\wörd/Ω-42'
    known.remember("imap.password", secret)
    mark = "[REDACTED:imap.password]"
    for ascii_only in (True, False):
        escaped = json.dumps({"p": secret}, ensure_ascii=ascii_only)
        assert known.scrub(escaped) == json.dumps({"p": mark}), escaped
    assert known.scrub(json.dumps(secret).replace("/", "\\/")) == f'"{mark}"'
    assert known.scrub(quote_plus(secret)) == mark
    assert known.scrub(b64(b"u:" + secret.encode())) == mark


def test_base64_is_found_at_every_alignment_and_the_whole_run_is_masked(
    known: KnownSecrets,
) -> None:
    for prefix in (b"", b"a", b"ab", b"abc", b"user@host.example:"):
        encoded = b64(prefix + TOKEN.encode() + b"-tail")
        masked = known.scrub(f"<{encoded}>")
        assert masked == f"<{MARK}>", (prefix, masked)


def test_overlapping_secrets_are_masked_as_one_union() -> None:
    known = KnownSecrets()
    known.remember("jira.api_token", "ATATT-0123456789")
    known.remember("hubspot.token", "456789-pat-na1")
    assert known.scrub("x ATATT-0123456789-pat-na1 y") == (
        "x [REDACTED:jira.api_token|hubspot.token] y"
    )


def test_the_longest_secret_wins_and_one_inside_another_is_not_named() -> None:
    known = KnownSecrets()
    known.remember("short", "secret-42")
    known.remember("long", "the-secret-42-token")
    assert known.scrub("a the-secret-42-token b") == "a [REDACTED:long] b"
    assert known.scrub("a secret-42 b") == "a [REDACTED:short] b"


def test_a_short_secret_is_masked_only_where_it_stands_alone() -> None:
    known = KnownSecrets()
    short = "pw9!x"
    assert len(short) < MIN_SECRET_LENGTH
    known.remember("smtp.password", short)
    assert known.scrub(short) == "[REDACTED:smtp.password]"
    assert known.scrub(f"the word {short} in text") == f"the word {short} in text"


def test_ordinary_text_is_left_alone(known: KnownSecrets) -> None:
    text = "Re: invoice 0412 — see https://example.com/a%20b?c=d and C:\\new\\folder \\u00e9"
    assert known.scrub(text) is text
    assert KnownSecrets().scrub(TOKEN) == TOKEN, "nothing known, nothing masked"


def test_the_first_name_wins_and_a_header_value_is_named_after_the_secret_it_holds() -> None:
    known = KnownSecrets()
    known.remember("jira.api_token", "tok-0123456789")
    known.remember("other", "tok-0123456789")
    pair = b64(b"dana@northwind.example:tok-0123456789")
    known.remember_authorization(f"Basic {pair}", "Jira authorization")
    assert known.scrub("dana@northwind.example:tok-0123456789") == "[REDACTED:jira.api_token]"
    assert known.scrub(pair) == "[REDACTED:jira.api_token]"


def test_a_short_basic_password_is_masked_through_its_user_password_pair() -> None:
    known = KnownSecrets()
    known.remember_authorization("Basic " + b64(b"dana:pw1"), "CalDAV authorization")
    assert known.scrub("dana:pw1") == "[REDACTED:CalDAV authorization]"
    assert known.scrub("pw1") == "[REDACTED:CalDAV authorization]"
    assert known.scrub("echo " + b64(b"dana:pw1")) == "echo [REDACTED:CalDAV authorization]"


def test_a_secret_url_masks_its_path_and_its_password() -> None:
    known = KnownSecrets()
    url = "https://tenant.webhook.office.example/webhookb2/5f0c1e2a-1111/IncomingWebhook/9c8b"
    known.remember("teams.webhook_url", url)
    assert known.scrub(f"POST {url}") == "POST [REDACTED:teams.webhook_url]"
    assert known.scrub("404 for /webhookb2/5f0c1e2a-1111/IncomingWebhook/9c8b") == (
        "404 for [REDACTED:teams.webhook_url]"
    )
    known.remember("SMTP_URL", "smtp://dana:s3cr3t-pw@mail.example:587")
    assert known.scrub("login s3cr3t-pw refused") == "login [REDACTED:SMTP_URL] refused"


def test_scrub_data_walks_structures_and_keeps_other_values(known: KnownSecrets) -> None:
    data = {"content": f"ts {TOKEN}", "n": 3, "items": [(TOKEN, None)], TOKEN: True}
    assert known.scrub_data(data) == {
        "content": f"ts {MARK}",
        "n": 3,
        "items": [(MARK, None)],
        TOKEN: True,
    }


def test_lookups_and_the_vault_remember_what_they_hand_out(tmp_path: Path) -> None:
    lookup = environment_secrets({"SLACK_BOT_TOKEN": TOKEN})
    assert scrub(TOKEN) == TOKEN, "not looked up yet"
    assert lookup("slack.bot_token") == TOKEN
    assert scrub(f"a {TOKEN}") == f"a {MARK}"

    db = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    CredentialVault(db, tmp_path).set("jira.api_token", "ATATT-stored-in-the-vault")
    KNOWN_SECRETS.forget_all()
    assert secret_lookup(db, tmp_path, {})("jira.api_token") == "ATATT-stored-in-the-vault"
    assert scrub("ATATT-stored-in-the-vault") == "[REDACTED:jira.api_token]"


def test_the_environment_secrets_are_remembered_by_name() -> None:
    remember_environment(
        {
            "GROQ_API_KEY": "gsk_abcdefghijklmnop",
            "WEBHOOK_SECRET_OPS_BRIDGE": "whsec-ops-bridge-1",
            "SMART_INBOX_KEY": "key-number-one,key-number-two",
            "GITHUB_TOKEN": "ghp-from-the-shell",
            "SMTP_URL": "smtp://dana:pw-in-the-url@mail.example",
            "MAX_TOKENS": "4096000",
            "PWD": "/home/dana/project",
            "OAUTH_TOKEN_URL": "https://oauth.example/token",
        }
    )
    assert scrub("gsk_abcdefghijklmnop") == "[REDACTED:groq.api_key]"
    assert scrub("whsec-ops-bridge-1") == "[REDACTED:webhook.secret:ops_bridge]"
    assert scrub("key-number-two") == "[REDACTED:SMART_INBOX_KEY]"
    assert scrub("ghp-from-the-shell") == "[REDACTED:GITHUB_TOKEN]"
    assert scrub("pw-in-the-url") == "[REDACTED:SMTP_URL.password]"
    ordinary = "4096000 in /home/dana/project from https://oauth.example/token"
    assert scrub(ordinary) == ordinary


def test_messages_to_a_model_are_scrubbed_and_clean_ones_are_not_copied() -> None:
    KNOWN_SECRETS.remember("slack.bot_token", TOKEN)
    clean = SystemMessage("you answer from evidence")
    asked = HumanMessage(f"why did {TOKEN} fail?")
    called = AIMessage(
        "", tool_calls=[{"name": "slack_post_message", "args": {"text": TOKEN}, "id": "c1"}]
    )
    out = scrub_messages([clean, asked, called])
    assert out[0] is clean
    assert out[1].content == f"why did {MARK} fail?"
    assert isinstance(out[2], AIMessage) and out[2].tool_calls[0]["args"] == {"text": MARK}
    assert asked.content == f"why did {TOKEN} fail?", "the original is not changed"


def test_log_records_are_scrubbed_at_debug_with_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_scrubbing()
    KNOWN_SECRETS.remember("slack.bot_token", TOKEN)
    logger = logging.getLogger("tests.redaction")
    with caplog.at_level(logging.DEBUG):
        logger.debug("answer %s", {"error": f"bad {TOKEN}"})
        logger.info(f"inline {b64(TOKEN.encode())}")
        try:
            raise ValueError(f"service said {quote(TOKEN, safe='')}")
        except ValueError:
            logger.exception("call failed")
    assert TOKEN not in caplog.text and b64(TOKEN.encode()) not in caplog.text
    assert quote(TOKEN, safe="") not in caplog.text
    assert caplog.text.count(MARK) == 3
    assert f"answer {{'error': 'bad {MARK}'}}" in caplog.text


def test_the_filter_leaves_clean_and_structured_records_usable() -> None:
    KNOWN_SECRETS.remember("slack.bot_token", TOKEN)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "n=%d", (3,), None)
    assert ScrubSecretsFilter().filter(record)
    assert (record.msg, record.args) == ("n=%d", (3,)), "untouched when clean"
    event = logging.LogRecord("x", logging.INFO, __file__, 1, {"event": TOKEN}, None, None)
    ScrubSecretsFilter().filter(event)
    assert event.msg == {"event": MARK}, "structlog's dict messages stay dicts"


def test_an_http_answer_echoing_the_token_reaches_nobody_intact() -> None:
    KNOWN_SECRETS.remember("slack.bot_token", TOKEN)
    echoed = httpx.Response(401, json={"error": f"bad token {TOKEN}"}, headers={"x-echo": TOKEN})
    clean = without_secrets(echoed)
    assert clean.json() == {"error": f"bad token {MARK}"}
    assert clean.headers["x-echo"] == MARK
    plain = httpx.Response(200, json={"ok": True})
    assert without_secrets(plain) is plain


async def test_a_header_credential_is_remembered_before_the_request_is_sent() -> None:
    secret = "hubspot-pat-never-looked-up"

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text=f"you sent {request.headers['authorization']}")

    client = httpx.AsyncClient(transport=httpx.MockTransport(echo))
    request = ApiRequest(
        "HubSpot",
        "POST",
        "https://api.example/x",
        "create",
        headers={"Authorization": f"Bearer {secret}"},
    )
    with pytest.raises(Exception) as caught:
        await send(request, HttpSettings(retries=0), client=client)
    await client.aclose()
    assert secret not in str(caught.value)
    assert "[REDACTED:HubSpot authorization]" in str(caught.value)


def test_the_audit_log_masks_known_secrets_by_value() -> None:
    KNOWN_SECRETS.remember("jira.api_token", "CANARY-jira-Lp7n")
    assert redact({"detail": "Jira said CANARY-jira-Lp7n"}) == {
        "detail": "Jira said [REDACTED:jira.api_token]"
    }


def test_remembering_and_scrubbing_from_many_threads() -> None:
    known = KnownSecrets()
    errors: list[str] = []

    def worker(number: int) -> None:
        secret = f"thread-secret-{number:03d}-value"
        known.remember(f"s{number}", secret)
        for _ in range(50):
            if secret in known.scrub(f"echo {secret}"):
                errors.append(secret)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({known.name_of(f"thread-secret-{n:03d}-value") for n in range(16)}) == 16


def test_a_megabyte_without_secrets_comes_back_unchanged() -> None:
    """Its speed (and that of texts built to slow the patterns down) is `bench/scrub.py`'s."""
    known = KnownSecrets()
    for number in range(10):
        known.remember(f"s{number}", f"secret-{number}-{'k' * number}-Zq81mW0p")
    prose = ("the invoice for March is overdue; please pay by Friday. " * 20_000)[:700_000]
    text = prose + b64(bytes(range(256)) * 900)[:300_000]
    assert known.scrub(text) == text
    assert scrub_data("x") == "x"
