"""bench/cpu.py: waiting for a group of processes to go idle (bench/e2e.py's warm-up)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.conftest import REPO

sys.path.append(str(REPO / "bench"))

from cpu import tree, wait_idle

BUSY_THEN_IDLE = (
    "import time\nend = time.process_time() + {busy}\nwhile time.process_time() < end: pass\ntime.sleep(60)"
)


@pytest.fixture
def spinner() -> Iterator[subprocess.Popen[bytes]]:
    """A process that burns 1.5 s of CPU, then sleeps."""
    proc = subprocess.Popen([sys.executable, "-c", BUSY_THEN_IDLE.format(busy=1.5)])
    yield proc
    proc.kill()
    proc.wait()


def test_waits_while_the_group_is_busy_and_returns_once_it_idles(spinner: subprocess.Popen[bytes]) -> None:
    started = time.perf_counter()
    waited = wait_idle(lambda: tree(spinner.pid), timeout_s=60, window_s=0.5)
    assert spinner.poll() is None
    assert waited >= 1.0, "returned while the process was still burning CPU"
    assert time.perf_counter() - started < 30


def test_an_idle_group_returns_after_one_window() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(1.0)  # past the interpreter's start-up
        assert wait_idle(lambda: tree(proc.pid), timeout_s=10, window_s=0.3) < 1.0
    finally:
        proc.kill()
        proc.wait()


def test_a_group_that_stays_busy_times_out() -> None:
    proc = subprocess.Popen([sys.executable, "-c", BUSY_THEN_IDLE.format(busy=30)])
    try:
        with pytest.raises(TimeoutError, match="still busy"):
            wait_idle(lambda: tree(proc.pid), timeout_s=1.0, window_s=0.3)
    finally:
        proc.kill()
        proc.wait()
