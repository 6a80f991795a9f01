#!/usr/bin/env python3
"""Install and run CodeHub, or install and run its tests, on a machine with nothing but Python.

    python3 dev.py run     # .venv + the product; the admin panel, and the bot when BOT_TOKEN is set
    python3 dev.py test    # .venv + test extras + Debian's chromium and faketime, then ruff (lint, format),
                           # the whole pytest suite, then the core and scheduler suites again under three
                           # far-away clocks

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -m "not slow"`) and skip the
shifted-clock runs; `python3 dev.py test-clocks` runs only those.
"""

from __future__ import annotations

import json
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
    if not apt_install("chromium"):
        print("browser tests will skip (and fail under CI=true)")


FAKETIME_LIBS = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
)
REAL_SLEEP = VENV / "realsleep.so"
SHIFTED_SUITES = ("tests/core", "tests/scheduler", "tests/clock")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def apt_install(*packages: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"cannot install {' '.join(packages)} (need root and apt-get)")
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", *packages], env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", *packages], check=True, env=env)
    return True


def ensure_faketime() -> str | None:
    """libfaketime (Debian's faketime) and the small sleep shim loaded before it (tests/clock/realsleep.c)."""
    lib = next((p for p in FAKETIME_LIBS if Path(p).exists()), None)
    if lib is None and apt_install("faketime"):
        lib = next((p for p in FAKETIME_LIBS if Path(p).exists()), None)
    if lib is not None and not shutil.which("cc"):
        apt_install("gcc", "libc6-dev")
    source = ROOT / "tests" / "clock" / "realsleep.c"
    if (
        lib is not None
        and shutil.which("cc")
        and (not REAL_SLEEP.exists() or REAL_SLEEP.stat().st_mtime < source.stat().st_mtime)
    ):
        sh("cc", "-shared", "-fPIC", "-O2", "-o", str(REAL_SLEEP), str(source))
    return lib if lib is not None and REAL_SLEEP.exists() else None


def test_clocks() -> int:
    """The core and scheduler suites again, with the wall clock of every process moved far away."""
    lib = ensure_faketime()
    if lib is None:
        print("libfaketime or a C compiler is missing: the shifted-clock runs cannot run", file=sys.stderr)
        return 1 if in_ci() else 0
    shifts = json.loads(subprocess.check_output([str(PY), "-m", "tests.clock.shifts"], cwd=ROOT))
    failed = []
    for shift in shifts:
        print(f"\n=== shifted clock: {shift['name']} ({shift['at']}) ===", flush=True)
        env = {
            **os.environ,
            "TZ": "UTC",
            "LD_PRELOAD": f"{REAL_SLEEP} {lib}",
            "FAKETIME": f"{shift['offset_seconds']:+d}",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }
        code = subprocess.call(
            [str(PY), "-m", "pytest", "-q", "-p", "no:cacheprovider", *SHIFTED_SUITES], cwd=ROOT, env=env
        )
        if code != 0:
            failed.append(f"{shift['name']} (pytest exit {code})")
    if failed:
        print("shifted-clock runs failed: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def run(args: list[str]) -> int:
    ensure_venv("postgres,redis")
    child = subprocess.Popen([str(BIN / "codehub"), "run", *args], cwd=ROOT)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # Ctrl-C reached `codehub run` too (one terminal, one signal): it stops cleanly
            continue


def lint() -> int:
    """ruff: lint (pyflakes, pycodestyle, isort) and formatting, as configured in pyproject.toml."""
    code = subprocess.call([str(BIN / "ruff"), "check", "."], cwd=ROOT)
    code = subprocess.call([str(BIN / "ruff"), "format", "--check", "."], cwd=ROOT) or code
    if code:
        print(
            "ruff found problems: `.venv/bin/ruff check --fix . && .venv/bin/ruff format .` fixes most", file=sys.stderr
        )
    return code


def test(args: list[str]) -> int:
    ensure_venv("test,postgres,redis")
    ensure_chromium()
    if not args and lint():
        return 1
    code = subprocess.call([str(PY), "-m", "pytest", *args], cwd=ROOT)
    if code == 5:
        print("pytest collected no tests: failing on purpose", file=sys.stderr)
        return 1
    if code != 0 or args:
        return code
    return test_clocks()


def clocks(args: list[str]) -> int:
    ensure_venv("test,postgres,redis")
    return test_clocks()


def main() -> int:
    commands = {"run": run, "test": test, "test-clocks": clocks}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
