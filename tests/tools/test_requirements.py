"""Issue 16: the runtime lock is closed over its own needs without the local S3 emulator (moto goes to
requirements-local.txt, the dev venv and the compose `local` image target only) and pins setuptools."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def pins(name: str) -> dict[str, str]:
    return {canonicalize_name(line.split("==")[0]): line.split("==")[1].strip()
            for line in (ROOT / name).read_text().splitlines() if "==" in line and not line.startswith("#")}


def needs(top: list[Requirement]) -> set[str]:
    """Every distribution ``top`` pulls in, walked through the installed metadata (markers and extras)."""
    seen: dict[str, set[str]] = {}
    stack = [(canonicalize_name(r.name), set(r.extras)) for r in top]
    while stack:
        name, extras = stack.pop()
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in seen[name] or {""}):
                stack.append((canonicalize_name(req.name), set(req.extras)))
    return set(seen)


def test_moto_is_not_a_runtime_requirement() -> None:
    runtime, local = pins("requirements.txt"), pins("requirements-local.txt")
    assert "moto" not in runtime and "moto" in local
    assert not re.search(r"^moto", (ROOT / "requirements.in").read_text(), re.M)
    assert "-r requirements-local.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert 'local = ["moto[server]==' in (ROOT / "pyproject.toml").read_text()


def test_the_runtime_lock_holds_everything_the_runtime_needs() -> None:
    top = [Requirement(line.split("#")[0]) for line in (ROOT / "requirements.in").read_text().splitlines()
           if line.split("#")[0].strip()]
    missing = sorted(needs(top) - set(pins("requirements.txt")))
    assert missing == []


def test_setuptools_is_pinned_past_the_vulnerable_releases() -> None:
    version = pins("requirements.txt")["setuptools"]
    assert tuple(int(p) for p in version.split(".")[:2]) >= (78, 1)  # CVE-2025-47273 fixed in 78.1.1
    assert metadata.version("setuptools") == version  # the venv runs what the lock says
