#!/usr/bin/env python3
"""Install and run CodeHub, or install and run its tests, on a machine with nothing but Python.

    python3 dev.py run     # .venv + the product; the admin panel, and the bot when BOT_TOKEN is set
    python3 dev.py test    # .venv + test extras + Debian's chromium, then the whole pytest suite

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -m "not slow"`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def sh(*cmd: str, check: bool = True) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=check).returncode


def ensure_venv(extras: str) -> None:
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras}"
    pyproject = ROOT / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    sh(str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    sh(str(PY), "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
    stamp.touch()


def ensure_chromium() -> None:
    """Browser tests drive Debian's chromium; Playwright's own download cannot work offline."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("chromium not found and cannot install it (need root and apt-get): browser tests will skip")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, env=env)


def run(args: list[str]) -> int:
    ensure_venv("postgres,redis")
    return subprocess.call([str(BIN / "codehub"), "run", *args], cwd=ROOT)


def test(args: list[str]) -> int:
    ensure_venv("test,postgres,redis")
    ensure_chromium()
    code = subprocess.call([str(PY), "-m", "pytest", *args], cwd=ROOT)
    if code == 5:
        print("pytest collected no tests: failing on purpose", file=sys.stderr)
        return 1
    return code


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    return {"run": run, "test": test}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
