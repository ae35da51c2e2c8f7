"""Sending over SMTP against real local servers: plain, STARTTLS, smtps, AUTH and failures."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.fakes.smtp_server import (
    ReceivedMessage,
    SelfSignedCert,
    SmtpSink,
    free_port,
    write_self_signed_cert,
)
from tools.mail.smtp import SendReceipt, SmtpSendError, send_message
from tools.mail.smtp_settings import SmtpConfigError, SmtpSettings, smtp_settings_from_env

pytestmark = pytest.mark.integration

SECRET = "s3cr3t-Pa55word"
WRONG = "wrong-Pa55word-xyz"


def message(
    *,
    to: str = "Ann <ann@example.com>",
    cc: str | None = "cid@example.com",
    bcc: str | None = "Hidden <hidden@example.com>",
    message_id: str | None = "<sent-1@smart-inbox.local>",
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Me <me@example.com>"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc
    msg["Subject"] = "Quarterly numbers"
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content("Hi Ann,\n\nthe numbers are attached in spirit.\n")
    return msg


def with_login(url: str, user: str, password: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{user}:{password}@{rest}"


@pytest.fixture
def cert(tmp_path: Path) -> SelfSignedCert:
    return write_self_signed_cert(tmp_path / "tls")


@pytest.fixture
def starttls_sink(cert: SelfSignedCert) -> Iterator[SmtpSink]:
    with SmtpSink(tls_context=cert.server_context()) as sink:
        yield sink


@pytest.fixture
def smtps_sink(cert: SelfSignedCert) -> Iterator[SmtpSink]:
    with SmtpSink(tls_context=cert.server_context(), implicit_tls=True) as sink:
        yield sink


# ------------------------------------------------------------------ delivery


def test_plain_delivery_with_bcc_kept_out_of_the_headers(smtp_sink: SmtpSink) -> None:
    msg = message()
    receipt = send_message(SmtpSettings.from_url(smtp_sink.url), msg)

    assert receipt == SendReceipt(
        message_id="<sent-1@smart-inbox.local>",
        recipients=["ann@example.com", "cid@example.com", "hidden@example.com"],
        refused={},
    )
    [got] = smtp_sink.wait_for(1)
    assert got.mail_from == "me@example.com"
    assert got.rcpt_tos == ["ann@example.com", "cid@example.com", "hidden@example.com"]
    assert got.message["Subject"] == "Quarterly numbers"
    assert got.message["To"] == "Ann <ann@example.com>"
    assert got.message["Cc"] == "cid@example.com"
    assert got.message["Message-ID"] == "<sent-1@smart-inbox.local>"
    assert got.message["Bcc"] is None
    assert b"hidden@example.com" not in got.raw
    assert got.message.get_content() == "Hi Ann,\n\nthe numbers are attached in spirit.\n"
    assert got.tls_version is None
    assert got.authenticated_as is None
    # The caller's message keeps its Bcc, so the copy kept in Sent still shows it.
    assert msg["Bcc"] == "Hidden <hidden@example.com>"


def test_explicit_recipients_replace_the_headers(smtp_sink: SmtpSink) -> None:
    receipt = send_message(
        SmtpSettings.from_url(smtp_sink.url), message(), recipients=["only@example.com"]
    )
    assert receipt.recipients == ["only@example.com"]
    [got] = smtp_sink.wait_for(1)
    assert got.rcpt_tos == ["only@example.com"]
    assert got.message["Bcc"] is None


def test_a_message_without_message_id_gets_one(smtp_sink: SmtpSink) -> None:
    msg = message(message_id=None)
    receipt = send_message(SmtpSettings.from_url(smtp_sink.url), msg)
    assert receipt.message_id.startswith("<") and receipt.message_id.endswith("@example.com>")
    assert msg["Message-ID"] == receipt.message_id
    assert smtp_sink.wait_for(1)[0].message["Message-ID"] == receipt.message_id


def test_no_recipients_sends_nothing(smtp_sink: SmtpSink) -> None:
    with pytest.raises(SmtpSendError, match="no recipients"):
        send_message(SmtpSettings.from_url(smtp_sink.url), message(), recipients=[])
    assert smtp_sink.messages == []


def test_on_data_runs_when_the_message_arrives() -> None:
    seen: list[ReceivedMessage] = []
    with SmtpSink(on_data=seen.append) as sink:
        send_message(SmtpSettings.from_url(sink.url), message())
        assert [m.message["Subject"] for m in seen] == ["Quarterly numbers"]
        assert seen == sink.messages


def test_wait_for_times_out_when_nothing_arrives(smtp_sink: SmtpSink) -> None:
    with pytest.raises(TimeoutError, match="0 of 1"):
        smtp_sink.wait_for(1, timeout=0.1)


def test_partial_refusal_is_reported() -> None:
    with SmtpSink(refuse_recipients=["cid@example.com"]) as sink:
        receipt = send_message(SmtpSettings.from_url(sink.url), message(bcc=None))
        [got] = sink.wait_for(1)
    assert receipt.recipients == ["ann@example.com"]
    assert list(receipt.refused) == ["cid@example.com"]
    assert receipt.refused["cid@example.com"].startswith("550 5.1.1")
    assert got.rcpt_tos == ["ann@example.com"]


def test_every_recipient_refused_is_an_error() -> None:
    with SmtpSink(refuse_recipients=["ann@example.com", "cid@example.com"]) as sink:
        settings = SmtpSettings.from_url(sink.url)
        with pytest.raises(SmtpSendError, match="all recipients refused") as caught:
            send_message(settings, message(bcc=None))
        assert sink.messages == []
    assert "cid@example.com: 550" in str(caught.value)
    assert caught.value.server == settings.server


# ------------------------------------------------------------------ stages of the exchange


def test_each_stage_is_reported_before_the_server_sees_the_step() -> None:
    """Client stages and server commands on one timeline: each stage precedes its step."""
    events: list[str] = []
    with SmtpSink(on_command=events.append) as sink:
        msg = message(bcc=None)
        msg.set_content(".a line starting with a dot\n..and two\n.\n")
        send_message(SmtpSettings.from_url(sink.url), msg, on_stage=events.append)
        [got] = sink.wait_for(1)
    stages = [e for e in events if e.islower()]
    assert stages == ["envelope", "data", "data_sent", "accepted"]
    order = events.index
    assert order("envelope") < order("MAIL") < order("RCPT") < order("data") < order("DATA")
    assert order("DATA") < order("accepted") < order("QUIT"), "accepted only after the 250"
    assert got.message.get_content() == ".a line starting with a dot\n..and two\n.\n"


def test_a_refused_envelope_never_reaches_the_data_stage() -> None:
    stages: list[str] = []
    with SmtpSink(refuse_recipients=["ann@example.com", "cid@example.com"]) as sink:
        with pytest.raises(SmtpSendError, match="all recipients refused"):
            send_message(SmtpSettings.from_url(sink.url), message(bcc=None), on_stage=stages.append)
    assert stages == ["envelope"]


def test_a_stage_that_cannot_be_recorded_stops_the_exchange(smtp_sink: SmtpSink) -> None:
    class NotRecorded(Exception):
        pass

    def refuse(stage: str) -> None:
        if stage == "data":
            raise NotRecorded(stage)

    with pytest.raises(NotRecorded):
        send_message(SmtpSettings.from_url(smtp_sink.url), message(), on_stage=refuse)
    assert smtp_sink.messages == [], "no message data went out"


def test_stages_over_smtps(smtps_sink: SmtpSink, cert: SelfSignedCert) -> None:
    stages: list[str] = []
    settings = SmtpSettings.from_url(smtps_sink.url, ca_file=str(cert.cert_file))
    send_message(settings, message(), on_stage=stages.append)
    assert stages == ["envelope", "data", "data_sent", "accepted"]
    assert len(smtps_sink.wait_for(1)) == 1


# ------------------------------------------------------------------ TLS


def test_starttls_is_used_when_offered(starttls_sink: SmtpSink, cert: SelfSignedCert) -> None:
    settings = SmtpSettings.from_url(starttls_sink.url, ca_file=str(cert.cert_file))
    send_message(settings, message())
    [got] = starttls_sink.wait_for(1)
    assert got.tls_version is not None and got.tls_version.startswith("TLS")


def test_untrusted_certificate_is_refused(starttls_sink: SmtpSink) -> None:
    with pytest.raises(SmtpSendError, match="TLS certificate verification failed") as caught:
        send_message(SmtpSettings.from_url(starttls_sink.url), message())
    assert "SMTP_CA_FILE" in str(caught.value)
    assert starttls_sink.messages == []


def test_certificate_for_another_name_is_refused(tmp_path: Path) -> None:
    # Trusted, but issued for another name: the name check is not skipped.
    other = write_self_signed_cert(tmp_path / "other", ["mail.example.org"])
    with SmtpSink(tls_context=other.server_context()) as sink:
        settings = SmtpSettings.from_url(sink.url, ca_file=str(other.cert_file))
        with pytest.raises(SmtpSendError, match="certificate verification failed.*127.0.0.1"):
            send_message(settings, message())
        assert sink.messages == []


def test_smtps_implicit_tls(smtps_sink: SmtpSink, cert: SelfSignedCert) -> None:
    assert smtps_sink.url.startswith("smtps://")
    settings = SmtpSettings.from_url(smtps_sink.url, ca_file=str(cert.cert_file))
    receipt = send_message(settings, message())
    [got] = smtps_sink.wait_for(1)
    assert got.tls_version is not None and got.tls_version.startswith("TLS")
    assert got.rcpt_tos == receipt.recipients


def test_smtps_untrusted_certificate_is_refused(smtps_sink: SmtpSink) -> None:
    with pytest.raises(SmtpSendError, match="certificate"):
        send_message(SmtpSettings.from_url(smtps_sink.url), message())
    assert smtps_sink.messages == []


def test_smtps_against_a_plain_server_is_a_tls_failure(smtp_sink: SmtpSink) -> None:
    settings = SmtpSettings.from_url(smtp_sink.url.replace("smtp://", "smtps://"), timeout=5)
    with pytest.raises(SmtpSendError, match="TLS failure"):
        send_message(settings, message())
    assert smtp_sink.messages == []


# ------------------------------------------------------------------ AUTH


def test_login_on_a_local_plain_server() -> None:
    with SmtpSink(auth={"alice": SECRET}) as sink:
        send_message(SmtpSettings.from_url(with_login(sink.url, "alice", SECRET)), message())
        [got] = sink.wait_for(1)
    assert got.authenticated_as == "alice"


def test_login_after_starttls(cert: SelfSignedCert) -> None:
    with SmtpSink(auth={"alice@example.com": SECRET}, tls_context=cert.server_context()) as sink:
        url = with_login(sink.url, "alice%40example.com", SECRET)
        send_message(SmtpSettings.from_url(url, ca_file=str(cert.cert_file)), message())
        [got] = sink.wait_for(1)
    assert got.authenticated_as == "alice@example.com"
    assert got.tls_version is not None


def test_login_over_smtps(cert: SelfSignedCert) -> None:
    with SmtpSink(
        auth={"alice": SECRET}, tls_context=cert.server_context(), implicit_tls=True
    ) as sink:
        url = with_login(sink.url, "alice", SECRET)
        send_message(SmtpSettings.from_url(url, ca_file=str(cert.cert_file)), message())
        [got] = sink.wait_for(1)
    assert (got.authenticated_as, got.tls_version is not None) == ("alice", True)


def test_wrong_password_never_shows_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with SmtpSink(auth={"alice": SECRET}) as sink:
        settings = SmtpSettings.from_url(with_login(sink.url, "alice", WRONG))
        with pytest.raises(SmtpSendError, match="authentication failed for user 'alice'") as caught:
            send_message(settings, message())
        assert sink.messages == []
    error = caught.value
    assert "535" in str(error)
    assert f"127.0.0.1:{sink.port}" in str(error)
    for text in (str(error), repr(error), repr(settings), settings.safe_url(), caplog.text):
        assert WRONG not in text
        assert SECRET not in text


def test_login_without_auth_on_the_server(smtp_sink: SmtpSink) -> None:
    settings = SmtpSettings.from_url(with_login(smtp_sink.url, "alice", SECRET))
    with pytest.raises(SmtpSendError, match="offers no AUTH") as caught:
        send_message(settings, message())
    assert SECRET not in str(caught.value)
    assert smtp_sink.messages == []


def _non_loopback_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address


def test_a_non_ascii_password_is_refused_without_quoting_it() -> None:
    password = "pässwörd-Ωmega"
    with SmtpSink(auth={"alice": password}) as sink:
        settings = SmtpSettings.from_url(
            with_login(sink.url, "alice", "p%C3%A4ssw%C3%B6rd-%CE%A9mega")
        )
        assert settings.password == password
        with pytest.raises(SmtpSendError) as caught:
            send_message(settings, message())
        assert sink.messages == []
    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{sink.port}: the user name or password is not ASCII, which the "
        "SMTP login cannot carry"
    )
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_password_is_not_sent_unencrypted_over_the_network(
    caplog: pytest.LogCaptureFixture,
) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with SmtpSink(auth={"alice": SECRET}, host=address) as sink:
        settings = SmtpSettings.from_url(with_login(sink.url, "alice", SECRET))
        with pytest.raises(SmtpSendError, match="password would travel unencrypted"):
            send_message(settings, message())
        assert sink.messages == []

        # Without a login the message itself may still go, with a warning in the log.
        caplog.set_level(logging.WARNING, logger="tools.mail.smtp")
        send_message(SmtpSettings.from_url(sink.url), message())
        assert [m.authenticated_as for m in sink.wait_for(1)] == [None]
    assert "does not offer STARTTLS" in caplog.text


# ------------------------------------------------------------------ unreachable servers


def test_connection_refused_names_the_server() -> None:
    port = free_port()
    settings = SmtpSettings.from_url(f"smtp://alice:{SECRET}@127.0.0.1:{port}")
    with pytest.raises(SmtpSendError) as caught:
        send_message(settings, message())
    assert str(caught.value) == f"SMTP server 127.0.0.1:{port}: connection refused"


def test_a_silent_server_times_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the TCP handshake, never says hello
        port = silent.getsockname()[1]
        settings = SmtpSettings.from_url(f"smtp://127.0.0.1:{port}", timeout=0.3)
        with pytest.raises(SmtpSendError, match=r"timed out after 0\.3s"):
            send_message(settings, message())


def test_unknown_host() -> None:
    settings = SmtpSettings.from_url("smtp://no-such-host.invalid:2525", timeout=5)
    with pytest.raises(SmtpSendError, match="no-such-host.invalid:2525: host 'no-such-host"):
        send_message(settings, message())


# ------------------------------------------------------------------ settings


def test_url_defaults() -> None:
    plain = SmtpSettings.from_url("smtp://mail.example.com")
    assert (plain.scheme, plain.host, plain.port) == ("smtp", "mail.example.com", 587)
    assert (plain.username, plain.password, plain.ca_file, plain.timeout) == ("", "", None, 30.0)
    assert SmtpSettings.from_url("smtps://mail.example.com").port == 465
    assert SmtpSettings.from_url("SMTP://Mail.Example.com:25/").port == 25
    assert SmtpSettings.from_url("smtp://mail.example.com:2525").server == "mail.example.com:2525"


def test_url_credentials_are_percent_decoded() -> None:
    settings = SmtpSettings.from_url("smtps://me%40example.com:p%40ss%3Aw%2Frd%25@mx.example.com")
    assert settings.username == "me@example.com"
    assert settings.password == "p@ss:w/rd%"
    assert settings.safe_url() == "smtps://me%40example.com@mx.example.com:465"
    # An unescaped "@" in the password still splits at the last one.
    assert SmtpSettings.from_url("smtp://me:p@ss@mx.example.com").password == "p@ss"


def test_ipv6_host() -> None:
    settings = SmtpSettings.from_url("smtp://[::1]:2525")
    assert (settings.host, settings.port, settings.server) == ("::1", 2525, "[::1]:2525")
    assert settings.safe_url() == "smtp://[::1]:2525"


def test_password_is_hidden_from_repr_and_safe_url() -> None:
    settings = SmtpSettings.from_url(f"smtp://alice:{SECRET}@mx.example.com")
    assert settings.password == SECRET
    assert SECRET not in repr(settings)
    assert SECRET not in settings.safe_url()
    assert settings.safe_url() == "smtp://alice@mx.example.com:587"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"http://alice:{SECRET}@mx.example.com", "unsupported scheme 'http'"),
        (f"alice:{SECRET}@mx.example.com", "unsupported scheme"),
        ("", "unsupported scheme"),
        (f"smtp://alice:{SECRET}@", "no host"),
        (f"smtp://alice:{SECRET}@:25", "no host"),
        (f"smtp://alice:{SECRET}@mx.example.com:abc", "bad host or port"),
        (f"smtp://alice:{SECRET}@mx.example.com:70000", "bad host or port"),
        (f"smtp://alice:{SECRET}@mx.example.com:0", "bad port"),
        (f"smtp://alice:{SECRET}@mx example.com", "bad host 'mx example.com'"),
        (f"smtp://alice:{SECRET}/x@mx.example.com", "path or query"),
        (f"smtp://alice:{SECRET}@mx.example.com/inbox", "path or query"),
        (f"smtp://alice:{SECRET}?x@mx.example.com", "path or query"),
        (f"smtp://:{SECRET}@mx.example.com", "password but no user name"),
    ],
)
def test_bad_urls(url: str, problem: str) -> None:
    with pytest.raises(SmtpConfigError, match=problem) as caught:
        SmtpSettings.from_url(url)
    assert SECRET not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_settings_from_env() -> None:
    assert smtp_settings_from_env({}) is None
    assert smtp_settings_from_env({"SMTP_URL": "  "}) is None
    settings = smtp_settings_from_env(
        {"SMTP_URL": f"smtps://alice:{SECRET}@mx.example.com", "SMTP_TIMEOUT": "7.5"}
    )
    assert settings == SmtpSettings(
        scheme="smtps",
        host="mx.example.com",
        port=465,
        username="alice",
        password=SECRET,
        ca_file=None,
        timeout=7.5,
    )


def test_settings_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_URL", raising=False)
    assert smtp_settings_from_env() is None
    monkeypatch.setenv("SMTP_URL", "smtp://relay.example.com:2525")
    settings = smtp_settings_from_env()
    assert settings is not None and settings.server == "relay.example.com:2525"


# ------------------------------------------------------------------ the password from the vault

ACCOUNT = "smtp.password:dana@northwind.example@smtp.example.com"
NO_PASSWORD_URL = "smtp://dana%40northwind.example@smtp.example.com"


class Lookup:
    """A secret lookup over a dict that remembers which names it was asked for."""

    def __init__(self, values: dict[str, str], error: Exception | None = None) -> None:
        self.values = values
        self.error = error
        self.asked: list[str] = []

    def __call__(self, name: str) -> str | None:
        self.asked.append(name)
        if self.error is not None:
            raise self.error
        return self.values.get(name)


def from_env(url: str, lookup: Lookup, **env: str) -> SmtpSettings:
    settings = smtp_settings_from_env({"SMTP_URL": url, **env}, secrets=lookup)
    assert settings is not None
    return settings


def test_the_password_is_looked_up_in_order() -> None:
    both = Lookup({ACCOUNT: "account-pw", "smtp.password": "any-pw"})
    assert from_env(NO_PASSWORD_URL, both).password == "account-pw"
    assert both.asked == [ACCOUNT], "this account's own credential first, and nothing more"
    generic = Lookup({"smtp.password": "any-pw"})
    settings = from_env(NO_PASSWORD_URL, generic)
    assert (settings.password, settings.password_problem) == ("any-pw", "")
    assert generic.asked == [ACCOUNT, "smtp.password"]
    in_url = Lookup({ACCOUNT: "account-pw"})
    url = "smtp://dana%40northwind.example:url-pw@smtp.example.com:2525"
    assert from_env(url, in_url).password == "url-pw", "a password in SMTP_URL still wins"
    assert in_url.asked == []
    anonymous = Lookup({"smtp.password": "any-pw"})
    assert from_env("smtp://smtp.example.com", anonymous).password == ""
    assert anonymous.asked == [], "no login, no lookup"


def test_the_account_is_the_decoded_user_and_the_host_without_port() -> None:
    lookup = Lookup({})
    from_env("smtps://Dana%2BOps%40Northwind.example@SMTP.Example.com:465", lookup)
    assert lookup.asked[0] == "smtp.password:Dana+Ops@Northwind.example@smtp.example.com"


def test_smtp_password_in_the_environment_is_the_last_resort() -> None:
    settings = smtp_settings_from_env({"SMTP_URL": NO_PASSWORD_URL, "SMTP_PASSWORD": "env-pw"})
    assert settings is not None and settings.password == "env-pw"
    assert "env-pw" not in repr(settings)


def test_no_password_anywhere_is_kept_for_the_send() -> None:
    settings = from_env(NO_PASSWORD_URL, Lookup({}))
    assert settings.password == ""
    assert settings.password_problem == (
        "no password for user 'dana@northwind.example': store it with "
        f"`smart-inbox credentials set {ACCOUNT}` (or set SMTP_PASSWORD)"
    )


def test_a_user_name_that_cannot_name_a_credential_falls_back_to_smtp_password() -> None:
    lookup = Lookup({})
    settings = from_env("smtp://Dana%20Smith@smtp.example.com", lookup)
    assert lookup.asked == ["smtp.password"]
    assert "`smart-inbox credentials set smtp.password`" in settings.password_problem


def test_an_unreadable_vault_is_kept_for_the_send_without_raising() -> None:
    from memory.credential_cipher import VaultKeyError

    wrong_key = VaultKeyError(f"1 credential(s) ({ACCOUNT}) are encrypted under key id abc")
    settings = from_env(NO_PASSWORD_URL, Lookup({}, error=wrong_key))
    assert settings.password == ""
    assert settings.password_problem == f"the SMTP password cannot be read: {wrong_key}"


def test_an_unreadable_vault_is_logged_once_however_often_settings_are_built(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from memory.credential_cipher import VaultKeyError

    wrong_key = VaultKeyError("1 credential(s) are encrypted under key id once-only")
    with caplog.at_level(logging.WARNING, logger="tools.mail.smtp"):
        for _ in range(3):
            settings = from_env(NO_PASSWORD_URL, Lookup({}, error=wrong_key))
            assert settings.password_problem.endswith("key id once-only")
    assert [r.getMessage() for r in caplog.records].count(settings.password_problem) == 1


def test_a_looked_up_password_logs_in() -> None:
    with SmtpSink(auth={"alice@example.com": SECRET}) as sink:
        url = f"smtp://alice%40example.com@{sink.host}:{sink.port}"
        settings = from_env(url, Lookup({f"smtp.password:alice@example.com@{sink.host}": SECRET}))
        send_message(settings, message())
        [got] = sink.wait_for(1)
    assert got.authenticated_as == "alice@example.com"
    assert SECRET not in repr(settings)


def test_without_a_password_nothing_is_attempted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with SmtpSink(auth={"alice": SECRET}) as sink:
        settings = from_env(f"smtp://alice@{sink.host}:{sink.port}", Lookup({}))
        with pytest.raises(SmtpSendError) as caught:
            send_message(settings, message())
        assert sink.messages == []
    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{sink.port}: no password for user 'alice': store it with "
        "`smart-inbox credentials set smtp.password:alice@127.0.0.1` (or set SMTP_PASSWORD)"
    )
    assert caught.value.__cause__ is None, "refused before any connection"
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf"])
def test_bad_timeout(value: str) -> None:
    with pytest.raises(SmtpConfigError, match="SMTP_TIMEOUT"):
        smtp_settings_from_env({"SMTP_URL": "smtp://mx.example.com", "SMTP_TIMEOUT": value})


def test_ca_file_from_env(tmp_path: Path, cert: SelfSignedCert) -> None:
    env = {"SMTP_URL": f"smtp://alice:{SECRET}@mx.example.com", "SMTP_CA_FILE": str(cert.cert_file)}
    settings = smtp_settings_from_env(env)
    assert settings is not None and settings.ca_file == str(cert.cert_file)

    missing = tmp_path / "nope.pem"
    with pytest.raises(SmtpConfigError, match="SMTP_CA_FILE .*nope.pem.* does not exist") as caught:
        smtp_settings_from_env({**env, "SMTP_CA_FILE": str(missing)})
    assert SECRET not in str(caught.value)

    not_pem = tmp_path / "junk.pem"
    not_pem.write_text("not a certificate")
    with pytest.raises(SmtpConfigError, match="no usable PEM certificate"):
        smtp_settings_from_env({**env, "SMTP_CA_FILE": str(not_pem)})
