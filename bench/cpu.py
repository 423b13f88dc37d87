"""Where a benchmark's CPU went: CPU seconds per group of processes over a window (psutil).

A group is a name and a function that returns its current pids (a worker's process tree, the
Postgres backends of one database, ...). A sampler thread reads every process's user + system time
a few times a second, so a process that exits inside the window still counts up to its last sample;
the figure of a group is the growth of its processes' CPU time between :meth:`start` and :meth:`stop`
(a process born inside the window counts from zero).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

import psutil

Pids = Callable[[], Iterable[int]]


def tree(pid: int | None) -> list[int]:
    """A process and all its descendants (empty once it is gone)."""
    if pid is None:
        return []
    try:
        parent = psutil.Process(pid)
        return [parent.pid, *(child.pid for child in parent.children(recursive=True))]
    except psutil.Error:
        return []


def _cpu(pid: int) -> tuple[float, float] | None:
    """(create time, user + system seconds) of a process, None if it cannot be read."""
    try:
        proc = psutil.Process(pid)
        times = proc.cpu_times()
        return proc.create_time(), times.user + times.system
    except psutil.Error:
        return None


class CpuMeter:
    def __init__(self, interval: float = 1.0) -> None:
        self.groups: dict[str, Pids] = {}
        self.interval = interval
        self._first: dict[tuple[int, float], float] = {}  # (pid, created) → CPU s at start or birth
        self._last: dict[tuple[int, float], float] = {}
        self._owner: dict[tuple[int, float], str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.window_s = 0.0

    def add(self, name: str, pids: Pids) -> None:
        self.groups[name] = pids

    def _sample(self, *, baseline: bool) -> None:
        for name, pids in self.groups.items():
            try:
                found = list(pids())
            except Exception:  # a group's lookup failing (database gone) must not stop the run
                continue
            for pid in found:
                read = _cpu(pid)
                if read is None:
                    continue
                key = (pid, read[0])
                if key not in self._first:
                    self._first[key] = read[1] if baseline else 0.0
                    self._owner[key] = name
                self._last[key] = read[1]

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample(baseline=False)

    def start(self) -> None:
        self._started = time.perf_counter()
        self._sample(baseline=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """CPU seconds per group over the window."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample(baseline=False)
        self.window_s = time.perf_counter() - self._started
        used = dict.fromkeys(self.groups, 0.0)
        for key, first in self._first.items():
            used[self._owner[key]] += self._last[key] - first
        return used


def report(used: dict[str, float], mails: int, window_s: float) -> list[str]:
    """Lines of ms of CPU per mail per group, the total, and how busy the machine's cores were."""
    lines = [f"  {name:28s} {1000 * s / mails:6.2f} ms/mail" for name, s in used.items()]
    total = sum(used.values())
    cores = psutil.cpu_count() or 1
    lines.append(f"  {'total':28s} {1000 * total / mails:6.2f} ms/mail")
    lines.append(f"  busy: {total:.1f} CPU-s of {window_s * cores:.1f} ({cores} cores × {window_s:.1f} s)")
    return lines


def wait_idle(pids: Pids, *, timeout_s: float, window_s: float = 1.0, busy_share: float = 0.05) -> float:
    """Wait until a group of processes uses under ``busy_share`` of a core over ``window_s``.

    Returns the seconds waited; raises TimeoutError after ``timeout_s``. A worker that loads a model
    (on a fresh machine: exports it to ONNX first) is busy for a while after it has started."""
    started = time.perf_counter()

    def total() -> float:
        return sum(read[1] for read in map(_cpu, list(pids())) if read is not None)

    before = total()
    while True:
        time.sleep(window_s)
        now = total()
        if now - before < busy_share * window_s:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"processes still busy after {timeout_s:.0f} s")
        before = now
