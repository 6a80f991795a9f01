"""The benchmark suite runs end to end at tiny sizes and reports every row of issue 16's table.

No timing is asserted: the figures are the bench's business (bench/results.md); this only keeps the suite
working as the code changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROWS = [
    "| /start (returning) |",
    "| /start (new students) vs raw registration |",
    "| /balance |",
    "Statements per update, /start of a returning student",
    "Statements per update, /balance",
    "| enroll() on a sync Session |",
    "| enroll() via the bot's async session |",
    "| dashboard |",
    "| topups |",
    "| transactions.first |",
    "| transactions.last |",
    "| transactions.student |",
    "| analytics.financial |",
    "| analytics.engagement |",
    "| analytics.platform_performance |",
    "| analytics.monthly_report |",
    "| analytics |",
    "| analytics.success_metrics |",
    "CSV export of transactions (sqlite)",
    "| product |",
]


@pytest.mark.slow
def test_bench_suite_reports_every_row(tmp_path):
    out = tmp_path / "results.md"
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--size", "tiny", "--db", "sqlite", "--repeat", "1", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    text = out.read_text(encoding="utf-8")
    missing = [row for row in ROWS if row not in text]
    assert missing == [], text
    assert "error:" not in text and "cut off" not in text, text
