"""A private Dovecot for tests: a temporary directory, a free loopback port, one passwd-file user.

Reusable by any test that needs a real IMAP server (the fault tests restart it, reset UIDVALIDITY):

    server = Dovecot(tmp_path); server.start(); ...; server.restart(); server.stop()

Plaintext login is allowed on loopback only (this is a test server); IDLE and MOVE are built in.
``Dovecot(root, prefix="INBOX.", separator=".")`` starts the Cyrus/Courier dialect: personal folders
under ``INBOX.`` with ``.`` as the hierarchy delimiter.
Runs as the current user. As root (CI containers), Dovecot refuses root for mail and login processes:
everything then runs as Debian's ``dovecot``/``dovenull`` users, in a directory of its own under the
system temp dir that the ``dovecot`` user owns (pytest's tmp dirs are private to root).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT_CANDIDATES = ("dovecot", "/usr/sbin/dovecot")
USER = "tester"
PASSWORD = "secret-pass"  # a throwaway test credential

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
shutdown_clients = yes
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:{root}/mail/%u
mail_plugins =
first_valid_uid = 0
first_valid_gid = 0
mail_uid = {uid}
mail_gid = {gid}
default_login_user = {login_user}
default_internal_user = {user}
default_internal_group = {group}
imap_idle_notify_interval = 2 mins
mailbox_list_index = no
namespace inbox {{
  inbox = yes
  prefix = {prefix}
  separator = {separator}
}}
protocol imap {{
  mail_max_userip_connections = 200
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  process_min_avail = 1
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {user}
  }}
  unix_listener stats-writer {{
    user = {user}
  }}
}}
"""


def find_dovecot() -> str | None:
    for name in DOVECOT_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    """One Dovecot instance under ``root``; ``start``/``stop``/``restart`` keep the same port and mail."""

    def __init__(
        self,
        root: Path,
        *,
        user: str = USER,
        password: str = PASSWORD,
        prefix: str = "",
        separator: str = "/",
    ) -> None:
        self.root = root
        self.prefix, self.separator = prefix, separator
        self.private_root = os.getuid() == 0
        if self.private_root:
            self.root = Path(tempfile.mkdtemp(prefix="mailroute-dovecot-"))
        self.user = user
        self.password = password
        self.host = "127.0.0.1"
        self.port = free_port()
        self.binary = find_dovecot()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def maildir(self) -> Path:
        return self.root / "mail" / self.user

    def write_config(self) -> None:
        import grp
        import pwd

        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        uid, gid = os.getuid(), os.getgid()
        name, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
        login_user = name
        if self.private_root:
            entry = pwd.getpwnam("dovecot")
            uid, gid, name, group, login_user = entry.pw_uid, entry.pw_gid, "dovecot", "dovecot", "dovenull"
            for path in (self.root, self.root / "mail"):
                os.chown(path, uid, gid)
            os.chmod(self.root, 0o755)
        home = self.root / "mail" / self.user
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}:::{home}::\n")
        self.config_path.write_text(
            CONFIG.format(
                root=self.root,
                port=self.port,
                user=name,
                group=group,
                login_user=login_user,
                uid=uid,
                gid=gid,
                prefix=self.prefix,
                separator=self.separator,
            )
        )

    def start(self, *, timeout: float = 20.0) -> None:
        if self.binary is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        self.write_config()
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: stop() ends the imap children too
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dovecot exited: {err}\n{self.log_tail()}")
            if self._greets():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port}\n{self.log_tail()}")

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # imap children still serving a client
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None
        # the master's children (imap processes) can outlive it for a moment and keep the port
        deadline = time.monotonic() + 5
        while self._greets() and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self, *, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def kill_connections(self) -> int:
        """SIGKILL the imap processes serving clients (the master stays up): connections reset."""
        if self.process is None:
            return 0
        killed = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")[0]
                same_group = os.getpgid(int(proc.name)) == self.process.pid
            except (OSError, ProcessLookupError):
                continue
            if same_group and cmdline.startswith(b"dovecot/imap") and b"login" not in cmdline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(proc.name), signal.SIGKILL)
                    killed += 1
        return killed

    def reset_uidvalidity(self, folder: str = "INBOX") -> None:
        """Make the server forget its UIDs for ``folder``: a new UIDVALIDITY, UIDs renumbered from 1.

        Stops the server, deletes the Maildir's uidlist and index files and starts it again, the way a
        restored backup or a migrated mailbox looks to a client. ``folder`` is the Maildir++ directory
        name part (INBOX, or the folder's modified UTF-7 name).
        """
        path = self.maildir if folder == "INBOX" else self.maildir / f".{folder.replace('/', '.')}"
        self.stop()
        time.sleep(1.1)  # Dovecot takes the new UIDVALIDITY from the clock (seconds)
        for item in path.iterdir():
            if item.name.startswith(("dovecot-uidlist", "dovecot.index")):
                item.unlink()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and remove a private root (the one made when running as root)."""
        self.stop()
        if self.private_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        path = self.root / "dovecot.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
