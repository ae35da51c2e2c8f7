"""A real IMAP server, Debian's Dovecot, on free local ports and private to one test.

Everything it uses lives in one fresh directory: its configuration, a self-signed certificate
made here with `cryptography`, the password file, the mail (a Maildir per user), its runtime
sockets and its log. Dovecot will not serve mail as root, so when the tests run as root it runs
as `nobody`; otherwise it runs as the user running the tests.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.fakes.smtp_server import HOST, free_ports, write_self_signed_cert

DOVECOT_MISSING = (
    "Dovecot is not installed, and the IMAP tests need a real IMAP server: "
    "apt-get install -y --no-install-recommends dovecot-imapd (.ci/run installs it)"
)
_BODY_COUNT = re.compile(r"body_count=(\d+)")


def dovecot_binary() -> str | None:
    """Where the `dovecot` command is (it lives in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


class DovecotServer:
    """One Dovecot with one user, TLS on `tls_port` and plain IMAP (STARTTLS) on `plain_port`."""

    def __init__(
        self,
        *,
        user: str = "dana",
        password: str = "pässwörd-42",
        drafts: str | None = "Drafts",
        sent: str | None = "Sent",
        special_use: bool = True,
    ) -> None:
        """Folders `drafts` and `sent` exist from the start (None: they do not).

        With `special_use` they carry the `\\Drafts` and `\\Sent` marks; without, they are
        plain folders that only their names tell apart.
        """
        self.user = user
        self.password = password
        self.drafts = drafts
        self.sent = sent
        self.special_use = special_use
        self.root = Path()
        self.ca_file = ""
        self.tls_port = 0
        self.plain_port = 0
        self._process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ life cycle

    def start(self) -> DovecotServer:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError(DOVECOT_MISSING)
        # Not under pytest's tmp_path: that is private to the test user, and Dovecot may run as
        # another one.
        self.root = Path(tempfile.mkdtemp(prefix="smart-inbox-imap-"))
        as_root = os.geteuid() == 0
        account = pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(account.pw_gid).gr_name
        cert = write_self_signed_cert(self.root, ["127.0.0.1", "localhost"], stem="imap")
        self.ca_file = str(cert.cert_file)
        self.tls_port, self.plain_port = free_ports(2)
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir()
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::\n")
        conf = self.root / "dovecot.conf"
        conf.write_text(self._config(account.pw_name, group, account.pw_uid, account.pw_gid, cert))
        if as_root:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, account.pw_uid, account.pw_gid)
        self.root.chmod(0o755)
        log = (self.root / "stdout.log").open("wb")
        self._process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **(
                {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
                if as_root
                else {}
            ),
        )
        log.close()
        self._wait_until_listening()
        return self

    def _config(self, user: str, group: str, uid: int, gid: int, cert: object) -> str:
        folders = []
        for name, use in ((self.drafts, "\\Drafts"), (self.sent, "\\Sent")):
            if name is None:
                continue
            mark = f"    special_use = {use}\n" if self.special_use else ""
            folders.append(f'  mailbox "{name}" {{\n    auto = create\n{mark}  }}\n')
        root = self.root
        return f"""\
protocols = imap
listen = {HOST}
base_dir = {root}/run
state_dir = {root}/state
instance_name = smart-inbox-test-{self.tls_port}
log_path = {root}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
first_valid_gid = 1
ssl = yes
ssl_cert = <{root}/imap-cert.pem
ssl_key = <{root}/imap-key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
mail_fsync = never
namespace inbox {{
  inbox = yes
  separator = /
{"".join(folders)}}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {self.plain_port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.tls_port}
    ssl = yes
  }}
}}
"""

    def _wait_until_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                output = self.log() + (self.root / "stdout.log").read_text(errors="replace")
                self._remove()
                raise RuntimeError(f"Dovecot exited at start:\n{output}")
            try:
                with socket.create_connection((HOST, self.tls_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Dovecot did not listen on {HOST}:{self.tls_port} in {timeout}s")

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        self.halt()
        self._remove()

    def halt(self) -> None:
        """Stop the server, keeping its files (the CA, the mail, the log).

        Dovecot's own processes (login, imap, log, ...) are in the process group the master
        leads; they would outlive it for a moment, so the group is ended too: the server is
        gone, also for a client in the middle of a session.
        """
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait(timeout=10)
        self._process = None

    def _remove(self) -> None:
        if self.root != Path() and self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ for the tests

    def spec(self, folder: str = "INBOX", *, tls: str = "implicit") -> str:
        """The `imap://` inbox spec of a folder of this server's user."""
        if tls == "implicit":
            return f"imap://{self.user}@{HOST}:{self.tls_port}/{folder}"
        return f"imap://{self.user}@{HOST}:{self.plain_port}/{folder}?tls={tls}"

    def env(self) -> dict[str, str]:
        """The environment a client of this server needs: its password and its CA."""
        return {"IMAP_PASSWORD": self.password, "IMAP_CA_FILE": self.ca_file}

    def client(self) -> imaplib.IMAP4_SSL:
        """A logged-in connection of the test's own, to seed and inspect the mailbox."""
        context = ssl.create_default_context(cafile=self.ca_file)
        conn = imaplib.IMAP4_SSL(HOST, self.tls_port, ssl_context=context, timeout=10)
        conn.authenticate("PLAIN", lambda _: f"\0{self.user}\0{self.password}".encode())
        return conn

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """Deliver one message; returns its UID."""
        conn = self.client()
        try:
            typ, data = conn.append(f'"{folder}"', f"({flags})" if flags else None, None, raw)
            assert typ == "OK", data
            match = re.search(rb"APPENDUID \d+ (\d+)", data[-1])
            assert match, data
            return int(match.group(1))
        finally:
            conn.logout()

    def create(self, folder: str) -> None:
        conn = self.client()
        try:
            typ, data = conn.create(f'"{folder}"')
            assert typ == "OK", data
        finally:
            conn.logout()

    def delete(self, folder: str) -> None:
        conn = self.client()
        try:
            typ, data = conn.delete(f'"{folder}"')
            assert typ == "OK", data
        finally:
            conn.logout()

    def folders(self) -> list[str]:
        conn = self.client()
        try:
            typ, data = conn.list('""', '"*"')
            assert typ == "OK", data
            return [line.rsplit(b" ", 1)[-1].decode().strip('"') for line in data if line]
        finally:
            conn.logout()

    def status(self, folder: str = "INBOX") -> tuple[int, int]:
        """(UIDVALIDITY, number of messages) of a folder."""
        conn = self.client()
        try:
            typ, data = conn.status(f'"{folder}"', "(UIDVALIDITY MESSAGES)")
            assert typ == "OK", data
            text = data[0].decode()
            validity = re.search(r"UIDVALIDITY (\d+)", text)
            messages = re.search(r"MESSAGES (\d+)", text)
            assert validity and messages, text
            return int(validity.group(1)), int(messages.group(1))
        finally:
            conn.logout()

    def messages(self, folder: str = "INBOX") -> list[tuple[int, set[str], bytes]]:
        """(UID, flags but `\\Recent`, raw message) of every message in `folder`, read without marking it."""
        conn = self.client()
        try:
            typ, data = conn.select(f'"{folder}"', readonly=True)
            assert typ == "OK", data
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            assert typ == "OK", data
            found = []
            for item in data:
                if isinstance(item, tuple):
                    head = item[0].decode()
                    uid = re.search(r"UID (\d+)", head)
                    flags = re.search(r"FLAGS \(([^)]*)\)", head)
                    assert uid and flags, head
                    marks = set(flags.group(1).split()) - {"\\Recent"}
                    found.append((int(uid.group(1)), marks, item[1]))
            return found
        finally:
            conn.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """Flags of every message by UID, `\\Recent` aside (EXAMINE and FETCH FLAGS: changes nothing)."""
        conn = self.client()
        try:
            typ, data = conn.select(f'"{folder}"', readonly=True)
            assert typ == "OK", data
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            assert typ == "OK", data
            flags: dict[int, set[str]] = {}
            for line in data:
                if not line:
                    continue
                text = line.decode() if isinstance(line, bytes) else line[0].decode()
                uid = re.search(r"UID (\d+)", text)
                found = re.search(r"FLAGS \(([^)]*)\)", text)
                if uid and found:
                    # \Recent belongs to sessions, not to the message.
                    flags[int(uid.group(1))] = set(found.group(1).split()) - {"\\Recent"}
            return flags
        finally:
            conn.logout()

    def message_file(self, uid_order: int, folder: str = "INBOX") -> Path:
        """The Maildir file of the `uid_order`-th message (0-based) of `folder`, on disk."""
        base = self.root / "home" / self.user / "Maildir"
        directory = base if folder == "INBOX" else base / f".{folder.replace('/', '.')}"
        files = sorted(
            (p for sub in ("cur", "new") for p in (directory / sub).iterdir()),
            key=_delivery_order,
        )
        return files[uid_order]

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _session_lines(self) -> tuple[int, list[str]]:
        lines = self.log().splitlines()
        logins = sum(1 for line in lines if "imap-login:" in line and "Login: user=<" in line)
        ended = [line for line in lines if "imap(" in line and "Disconnected" in line]
        return logins, ended

    def quiet_mark(self) -> int:
        """Wait until every session that logged in has ended; return how many have ended.

        Dovecot logs a session's counts when it ends, a moment after the client has gone.
        """
        deadline = time.monotonic() + 10
        while True:
            logins, ended = self._session_lines()
            if logins == len(ended) or time.monotonic() > deadline:
                return len(ended)
            time.sleep(0.05)

    def bodies_read_since(self, mark: int) -> int:
        """Messages Dovecot itself counted as read (`body_count`) in the sessions after `mark`."""
        self.quiet_mark()
        _, ended = self._session_lines()
        return sum(int(m.group(1)) for line in ended[mark:] if (m := _BODY_COUNT.search(line)))

    def sessions_since(self, mark: int) -> int:
        """Sessions that logged in and ended after `mark`."""
        self.quiet_mark()
        return len(self._session_lines()[1]) - mark


_MAILDIR_NAME_RE = re.compile(r"^(\d+)\.M(\d+)")


def _delivery_order(path: Path) -> tuple[int, int, str]:
    """A Maildir file's place in delivery (so UID) order: its second, then its microsecond.

    The name is `<seconds>.M<microseconds>P<pid>...`; as text, `M98765` sorts after `M123456`
    although it came first within the same second, so the numbers are compared as numbers.
    """
    found = _MAILDIR_NAME_RE.match(path.name)
    if found is None:
        return (0, 0, path.name)
    return (int(found[1]), int(found[2]), path.name)
