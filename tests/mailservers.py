"""A real IMAP server for the tests: Debian's Dovecot (`dovecot-imapd`) on loopback, throw-away.

One instance for the session (`dovecot`): its own configuration, users file, Maildir, TLS
certificate (self-signed, generated with `cryptography`) and log in a temporary folder, two free
loopback ports (IMAP in plain text, IMAPS), run in the foreground (`dovecot -F -c ...`) and
stopped at the end. Each test takes a folder of its own (`imap_folder`), so the session's
messages never meet. Messages are put in with IMAP APPEND, as a mail server would deliver them.

Dovecot refuses to give mail to root: run as root (CI), the mail belongs to Dovecot's own system
user, its logins to `dovenull`, and the temporary folder is one they can enter (pytest's
`tmp_path` under `/tmp/pytest-of-root` is not); run as anyone else, everything is that user's.
"""

from __future__ import annotations

import datetime as dt
import grp
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imap_tools import MailBox, MailBoxUnencrypted

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
HOST = "127.0.0.1"
USER, PASSWORD = "sportello", "casella-di-prova"


@dataclass
class Dovecot:
    """How to reach the running server, and a client to put messages in and read their flags."""

    host: str
    port: int
    tls_port: int
    username: str
    password: str
    certificate: Path
    log: Path

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the server's self-signed certificate (and only it)."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def client(self, folder: str = "INBOX", *, tls: bool = False):
        if tls:
            box = MailBox(self.host, self.tls_port, timeout=10, ssl_context=self.ssl_context())
        else:
            box = MailBoxUnencrypted(self.host, self.port, timeout=10)
        return box.login(self.username, self.password, initial_folder=folder)

    def append(self, folder: str, raw: bytes) -> None:
        with self.client(folder) as box:
            box.append(raw, folder)

    def flags(self, folder: str) -> list[set[str]]:
        """Each message's flags, in the folder's order (read without marking anything)."""
        with self.client(folder) as box:
            return [
                set(message.flags)
                for message in box.fetch("ALL", mark_seen=False, headers_only=True)
            ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "imap.crt", directory / "imap.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _config(root: Path, *, port: int, tls_port: int, cert: Path, key: Path) -> str:
    if os.geteuid() == 0:
        # Mail for Dovecot's own user (never root), logins as dovenull, the users file read by
        # root (the folder is not dovecot's to list).
        internal, login, mail_user, auth_user = "dovecot", "dovenull", "dovecot", "root"
        unchrooted: tuple[str, ...] = ()
    else:
        internal = login = mail_user = pwd.getpwuid(os.geteuid()).pw_name
        auth_user = "$default_internal_user"
        # Only root can chroot; this instance has nothing to hide from itself.
        unchrooted = ("imap-login", "anvil", "ipc", "old-stats")
    account = pwd.getpwnam(mail_user)
    return f"""\
# A throw-away Dovecot for Sportello's tests (tests/mailservers.py).
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {HOST}
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
# Plain login over loopback on the plain listener; the TLS one has the self-signed certificate.
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered at once (the tests try one on purpose).
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
# Dovecot's own user is a system account, below the default first_valid_uid (500).
first_valid_uid = {account.pw_uid}
first_valid_gid = {account.pw_gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
  default_fields = uid={account.pw_uid} gid={account.pw_gid} home={root}/mail/%u
}}
service auth {{
  user = {auth_user}
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
    ssl = no
  }}
  inet_listener imaps {{
    port = {tls_port}
    ssl = yes
  }}
}}
""" + "".join(f"service {name} {{\n  chroot =\n}}\n" for name in unchrooted)


def _answers(port: int, *, greeting: bool = True) -> bool:
    """Whether the port takes connections (and, in plain text, greets like an IMAP server)."""
    try:
        with socket.create_connection((HOST, port), timeout=1) as conversation:
            return not greeting or conversation.recv(64).startswith(b"* OK")
    except OSError:
        return False


@pytest.fixture(scope="session")
def dovecot():
    """A running Dovecot for the session (about a second to start)."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail(
            "Dovecot is not installed: apt-get install dovecot-imapd (make test does it as root)",
            pytrace=False,
        )
    root = Path(tempfile.mkdtemp(prefix="sportello-dovecot-"))
    try:
        root.chmod(0o711)  # Dovecot's own users enter it, and only the folders meant for them
        cert, key = _self_signed(root)
        port, tls_port = _free_port(), _free_port()
        (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        (root / "mail").mkdir()
        if os.geteuid() == 0:
            account = pwd.getpwnam("dovecot")
            os.chown(root / "mail", account.pw_uid, account.pw_gid)
        config = root / "dovecot.conf"
        config.write_text(_config(root, port=port, tls_port=tls_port, cert=cert, key=key))
        server = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        log = root / "dovecot.log"
        try:
            deadline = time.monotonic() + 20
            while not (_answers(port) and _answers(tls_port, greeting=False)):
                if server.poll() is not None or time.monotonic() > deadline:
                    said = server.stderr.read().decode(errors="replace") if server.poll() else ""
                    written = log.read_text(errors="replace") if log.exists() else ""
                    pytest.fail(f"Dovecot did not start:\n{said}\n{written}", pytrace=False)
                time.sleep(0.05)
            yield Dovecot(HOST, port, tls_port, USER, PASSWORD, cert, log)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)
            server.stderr.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_folder(dovecot) -> str:
    """A new, empty IMAP folder of the session's Dovecot user, for one test."""
    name = f"prova-{uuid.uuid4().hex[:12]}"
    with dovecot.client() as box:
        box.folder.create(name)
    return name
