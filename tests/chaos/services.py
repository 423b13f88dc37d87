"""Private, restartable services for fault tests and the load benchmark: Redis, Postgres, Celery workers.

The machine's own Postgres and Redis are shared by every test and engineer, so nothing here restarts
them: each fault test starts its own ``redis-server`` (no persistence: a restart loses the queue, which
is the point) or its own Postgres cluster (``initdb`` into a temporary directory, run as the
``postgres`` user when we are root), on a free loopback port, and kills it by process id afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """``redis-server`` on a free port without persistence: ``restart()`` empties it.

    ``persistent=True`` keeps an append-only file (fsync'd on every write, like docker-compose's AOF
    Redis), so a restart — even a kill -9 — keeps the queues and the unacknowledged tasks.
    """

    def __init__(self, *, persistent: bool = False) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.dir = Path(tempfile.mkdtemp(prefix="mailroute-redis-")) if persistent else None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *(
                    ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir)]
                    if self.dir
                    else ["--appendonly", "no"]
                ),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not wait_for(lambda: listening(self.port), 15, 0.05):
            raise RuntimeError(f"redis-server did not listen on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()  # SIGKILL: the queue is gone, as after a crash
            self.process.wait(timeout=10)
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def run_id(self) -> str:
        import redis

        return str(redis.Redis.from_url(self.url, socket_timeout=2).info("server")["run_id"])

    def restart(self, *, down_s: float = 0.5) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def queue_length(self, queue: str = "classify") -> int:
        import redis

        try:
            return int(redis.Redis.from_url(self.url, socket_timeout=2).llen(queue))
        except Exception:
            return -1


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found (apt-get install postgresql)")
    return path


class PrivatePostgres:
    """A throw-away Postgres cluster: ``initdb`` into a temp dir, ``pg_ctl`` start/stop/restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="mailroute-pg-"))
        self.data = self.root / "data"
        self.as_root = os.getuid() == 0
        if self.as_root:
            import pwd

            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    @staticmethod
    def available() -> bool:
        try:
            pg_bin("initdb")
        except RuntimeError:
            return False
        if os.getuid() == 0:
            import pwd

            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return False
        return True

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = list(args)
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(
            command, check=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def init(self) -> None:
        self._run(
            pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                # synchronous_commit must stay on: with it off a commit is acknowledged before its WAL
                # leaves shared memory, and the crash-like restart loses it (a mail decided, its
                # webhook sent, then its rows gone). fsync off is safe here: the OS does not crash.
                "fsync = off\nsynchronous_commit = on\nfull_page_writes = off\nmax_connections = 60\n"
                "shared_buffers = 32MB\n"
            )

    def start(self) -> None:
        self._run(
            pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w", "-t", "60", "start"
        )

    def stop(self, *, mode: str = "fast") -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, *, down_s: float = 1.0) -> None:
        self.stop(mode="immediate")  # like a crash: connections cut, no shutdown checkpoint
        time.sleep(down_s)
        self.start()

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str = "mailroute") -> str:
        import psycopg

        with psycopg.connect(self.admin_url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url(name)

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.admin_url(database).replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(sql)

    def cleanup(self) -> None:
        self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def start_worker(
    env: dict[str, str], log: Path, *, concurrency: int = 2, queues: str = "classify,actions,webhooks"
) -> subprocess.Popen[bytes]:
    """A real ``celery -A worker worker`` in its own process group (so kill -9 takes its children)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            f"--concurrency={concurrency}",
            f"-Q{queues}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL, *, wait_s: float = 30) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # children left behind by a parent killed first
        os.killpg(proc.pid, signal.SIGKILL)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    kill_group(proc, signal.SIGTERM)
