"""The dependency locks: every install (make, CI, the images) gets the same hash-pinned packages."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO

ENTRY_RE = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.M
)
LEFT_OUT = {"torchvision", "torchaudio", "torchcodec"}  # see scripts/lock.sh


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, str]:
    """name -> version of every entry; each must carry at least one sha256 hash."""
    text = (REPO / lock).read_text()
    found = {canonical(m[1]): m[2] for m in ENTRY_RE.finditer(text)}
    entries = re.findall(r"^[A-Za-z0-9][^\s]*==", text, re.M)
    assert len(found) == len(entries) >= 50, f"{lock}: {len(entries)} pins, {len(found)} with hashes"
    return found


def requirement_names(requirements: list[str]) -> set[str]:
    names = {canonical(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}
    assert names
    return names


def test_locks_pin_everything_pyproject_asks_for_with_hashes() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert requirement_names(project["dependencies"]) <= set(base)
    extras = project["optional-dependencies"]
    assert requirement_names(extras["dev"] + extras["vllm-cpu"]) <= set(dev)
    assert "import-linter" in requirement_names(extras["dev"])
    assert base["torch"] == dev["torch"] == "2.13.0+cpu"
    assert not LEFT_OUT & set(dev)


def test_the_base_lock_agrees_with_the_dev_lock() -> None:
    base, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in base} == base


def test_make_installs_from_the_locks() -> None:
    makefile = (REPO / "Makefile").read_text()
    for lock in ("requirements.lock", "requirements-dev.lock"):
        assert f"install -q --require-hashes --no-deps -r {lock}" in makefile
    assert "install -q --no-deps -e ." in makefile
    assert "-e '.[" not in makefile  # no unpinned resolve of the extras
