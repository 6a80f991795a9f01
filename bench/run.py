"""Every row of issue 16's table, each figure next to its floor measured in the same run.

    .venv/bin/python bench/run.py [--size tiny|small|full] [--db sqlite|postgresql|both] [--only SECTION ...]
                                  [--data-dir DIR] [--out bench/results.md]

Sizes: `full` is 100,000 students and 1,000,000 ledger rows (and the 10k reference the flat targets compare
with); `small` only the 10k database; `tiny` a few hundred rows (the test suite's smoke run). A database
already in --data-dir (or a PostgreSQL database bench16_<size>) is reused after `migrate`; without
--data-dir everything is generated in a temporary folder and dropped at the end.
Sections: panel, money, bot, memory. Figures are medians of --repeat runs; the machine is shared, so read
the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bot as botbench  # noqa: E402
from bench import money, panel  # noqa: E402
from bench.datagen import SIZES, generate  # noqa: E402
from core.db import migrate, optimize_database  # noqa: E402

PG_ADMIN = os.environ.get("CODEHUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# PostgreSQL databases are named PREFIX_<size>: a separate prefix keeps parallel runs apart
PG_PREFIX = os.environ.get("CODEHUB_BENCH_PG_PREFIX", "bench16")
SECTIONS = ("panel", "money", "bot", "memory")
PANEL_KINDS = (
    "floor",
    "dashboard",
    "analytics",
    "topups",
    "transactions.first",
    "transactions.last",
    "transactions.student",
    "transactions.search",
    "analytics.financial",
    "analytics.engagement",
    "analytics.platform_performance",
    "analytics.monthly_report",
    "analytics.success_metrics",
    "export",
)


def _pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(PG_ADMIN.replace("postgresql://", "postgresql://", 1), autocommit=True) as c:
        return c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _pg_create(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


def _pg_drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Run:
    def __init__(self, args):
        self.args = args
        self.keep = args.data_dir is not None
        self.dir = Path(args.data_dir or tempfile.mkdtemp(prefix="codehub-bench-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.now = datetime.now(timezone.utc)
        self.created_pg: list[str] = []
        self.lines: list[str] = []
        self.results: dict = {}

    def database(self, db: str, size: str) -> str:
        """A database of `size` on `db`, generated once, reused after migrate."""
        if db == "sqlite":
            path = self.dir / f"{size}.db"
            url = f"sqlite:///{path}"
            if not path.exists():
                t = time.perf_counter()
                counts = generate(url, SIZES[size], self.now)
                self.say(f"  generated {size} on sqlite in {time.perf_counter() - t:.1f}s: {counts}")
            else:
                migrate(url)
            return url
        name = f"{PG_PREFIX}_{size}"
        url = _pg_url(name)
        if not (self.keep and _pg_exists(name)):
            _pg_create(name)
            self.created_pg.append(name)
            t = time.perf_counter()
            counts = generate(url, SIZES[size], self.now)
            self.say(f"  generated {size} on postgresql in {time.perf_counter() - t:.1f}s: {counts}")
        else:
            migrate(url)
            optimize_database(url)
        return url

    def say(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)

    def cleanup(self) -> None:
        if not self.keep:
            for name in self.created_pg:
                _pg_drop(name)
            shutil.rmtree(self.dir, ignore_errors=True)


def fmt_ms(value) -> str:
    return "—" if value is None else f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _panel_cell(result: dict, key: str = "times") -> tuple[str, float | None]:
    if "cutoff" in result:
        return f"> {result['cutoff']:.0f} s (cut off)", None
    if "error" in result:
        return f"error: {result['error'][:120]}", None
    v = panel.median_ms(result, key)
    return fmt_ms(v), v


def section_panel(run: Run, dbs: list[str]) -> None:
    sizes = {"tiny": ["tiny"], "small": ["10k"], "full": ["10k", "full"]}[run.args.size]
    big = sizes[-1]
    cutoff = run.args.cutoff
    for db in dbs:
        figures: dict[str, dict] = {}
        for size in sizes:
            url = run.database(db, size)
            data_dir = run.dir / "panel-data"
            panel.ensure_admin(url, data_dir)
            for kind in PANEL_KINDS:
                if run.args.panel and kind != "floor" and kind not in run.args.panel:
                    continue
                if kind == "export" and size != big:
                    continue
                # an export of every row takes its time: its targets are the first byte and memory
                r = panel.measure(
                    kind, url, data_dir, repeat=run.args.repeat, cutoff=cutoff if kind != "export" else max(cutoff, 900)
                )
                figures[f"{size}:{kind}"] = r
                cell, _ = _panel_cell(r) if kind != "export" else (str(r.get("rows", r)), None)
                print(f"    {db} {size} {kind}: {cell}", flush=True)
        run.results[f"panel:{db}"] = figures
        floor_cell, floor = _panel_cell(figures[f"{big}:floor"])
        run.say(f"\n### Panel on {db} ({big}: {SIZES[big].transactions:,} ledger rows)\n")
        run.say(f"Floor: the signed-in 'My password' page (a page with no query of its size): {floor_cell}.\n")
        run.say("| what | at 10k | at size | x floor | at size / at 10k | target |")
        run.say("|---|---|---|---|---|---|")
        targets = {
            "dashboard": "< 300 ms",
            "topups": "≤ 1.5× 10k",
            "transactions.first": "≤ 1.5× 10k",
            "transactions.last": "≤ 1.5× 10k",
            "transactions.student": "no 500",
            "transactions.search": "—",
        }
        for kind in PANEL_KINDS[1:-1]:
            if f"{big}:{kind}" not in figures:
                continue
            small_cell, small = _panel_cell(figures.get(f"{sizes[0]}:{kind}", {}))
            big_cell, value = _panel_cell(figures[f"{big}:{kind}"])
            ratio = f"{value / floor:.1f}" if value and floor else "—"
            flat = f"{value / small:.2f}" if value and small and big != sizes[0] else "—"
            target = targets.get(kind, "< 300 ms")
            run.say(f"| {kind} | {small_cell} | {big_cell} | {ratio} | {flat} | {target} |")
        e = figures.get(f"{big}:export")
        if e is None:
            continue
        if "rows" in e:
            run.say(
                f"\nCSV export of transactions ({db}): {e['rows']:,} rows of {_ledger_rows(url):,}"
                f"{' (the file says where it stops)' if e['notice'] else ''}; first byte "
                f"{fmt_ms(min(e['first_byte']) * 1000)} "
                f"(median {fmt_ms(sorted(e['first_byte'])[len(e['first_byte']) // 2] * 1000)}); "
                f"whole file {fmt_ms(sorted(e['total'])[len(e['total']) // 2] * 1000)}; panel RSS "
                f"{e['rss_before']:.0f} MB before, peak {e['rss_peak']:.0f} MB "
                f"(+{e['rss_peak'] - e['rss_before']:.0f} MB), after each export "
                f"{', '.join(f'{x:.0f}' for x in e['rss_after'])} MB."
            )
        else:
            run.say(f"\nCSV export ({db}): {e}")


def _ledger_rows(url: str) -> int:
    from sqlalchemy import create_engine, text

    from core.db import sync_url

    engine = create_engine(sync_url(url))
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM transactions")).scalar()
    engine.dispose()
    return n


def section_money(run: Run) -> None:
    n = {"tiny": 20, "small": 300, "full": 1000}[run.args.size]
    r = money.run(n, runs=run.args.repeat)
    run.results["money"] = r
    run.say(
        f"\n### Money path (SQLite, WAL + synchronous=FULL, {n} purchases per round, median of "
        f"{run.args.repeat} rounds)\n"
    )
    run.say(
        "Floor: raw sqlite3 doing what a purchase must do, in the service's statements (one read for the "
        "idempotency lookup and the student, platform and enrollment checks, conditional debit with RETURNING, "
        "enrollment and ledger inserts, BEGIN IMMEDIATE/COMMIT).\n"
    )
    run.say("| path | purchases/s | floor/s | ratio | target |")
    run.say("|---|---|---|---|---|")
    run.say(
        f"| enroll() on a sync Session | {r['sync']:,.0f} | {r['floor']:,.0f} | {r['sync'] / r['floor']:.2f} | ≥ 0.5 |"
    )
    run.say(
        f"| enroll() via the bot's async session | {r['async']:,.0f} | {r['floor']:,.0f} | "
        f"{r['async'] / r['floor']:.2f} | ≥ 0.25 |"
    )
    stmts = [s for s in r["statements"] if s not in ("BEGIN", "COMMIT")]
    run.say(f"\nStatements per purchase (service): {len(stmts)} ({', '.join(stmts)}).")


def section_bot(run: Run, dbs: list[str]) -> None:
    n = {"tiny": 10, "small": 100, "full": 300}[run.args.size]
    for db in dbs:
        runs = []
        for i in range(run.args.repeat):
            if db == "sqlite":
                url = f"sqlite:///{run.dir / f'bot-{i}.db'}"
            else:
                name = f"{PG_PREFIX}_bot{i}"
                _pg_create(name)
                run.created_pg.append(name)
                url = _pg_url(name)
            migrate(url)
            product = botbench.burst("product", url, run.dir / "bot-data", n)
            empty = botbench.burst("empty", None, run.dir / "bot-data", n)
            empty["settled"] = botbench.burst("empty-settled", None, run.dir / "bot-data", n)
            if db == "sqlite":  # the first /start's floor: the same writes in raw sqlite3, on a database of its own
                floor_url = f"sqlite:///{run.dir / f'bot-floor-{i}.db'}"
                migrate(floor_url)
                empty["register"] = botbench.burst("register", floor_url, run.dir / "bot-data", n)["start_new"]
            runs.append((product, empty))
            if db != "sqlite":
                _pg_drop(f"{PG_PREFIX}_bot{i}")
        run.results[f"bot:{db}"] = runs
        run.say(f"\n### Bot burst on {db}: {n} students send a command at once (median of {len(runs)} runs)\n")
        run.say("Floor: an aiogram bot with empty handlers (one answer per message) on the same fake API.\n")
        run.say(
            "| command | product answers/s | floor answers/s | ratio | product p99 | floor p99 | answered | target |"
        )
        run.say("|---|---|---|---|---|---|---|---|")
        for key, label, target in (
            ("start_new", "/start (new students)", "p99 < 1.5 s"),
            ("start", "/start (returning)", "≥ 0.5, p99 < 1 s"),
            ("balance", "/balance", "≥ 0.5"),
        ):
            pr = botbench.median([p[key]["rate"] for p, _ in runs])
            er = botbench.median([e[key]["rate"] for _, e in runs])
            pp = botbench.median([p[key]["p99"] for p, _ in runs])
            ep = botbench.median([e[key]["p99"] for _, e in runs])
            answered = min(p[key]["answered"] for p, _ in runs)
            run.say(
                f"| {label} | {pr:,.0f} | {er:,.0f} | {pr / er:.2f} | {pp:.2f} s | {ep:.2f} s | "
                f"{answered}/{n} | {target} |"
            )
        if db == "sqlite":
            pr = botbench.median([p["start_new"]["rate"] for p, _ in runs])
            fr = botbench.median([e["register"]["rate"] for _, e in runs])
            pp = botbench.median([p["start_new"]["p99"] for p, _ in runs])
            fp = botbench.median([e["register"]["p99"] for _, e in runs])
            run.say(
                "\nFirst /start against its own floor: an aiogram bot whose /start writes the same registration "
                "(user row, welcome ledger row) in raw sqlite3, one durable transaction each (WAL, synchronous=FULL).\n"
            )
            run.say("| command | product answers/s | floor answers/s | ratio | product p99 | floor p99 | target |")
            run.say("|---|---|---|---|---|---|---|")
            run.say(
                f"| /start (new students) vs raw registration | {pr:,.0f} | {fr:,.0f} | {pr / fr:.2f} | {pp:.2f} s | "
                f"{fp:.2f} s | ≥ 0.5, p99 < 1.5 s |"
            )
        run.say(
            "\nThe floor again, its heap settled as the product's (bot.app.settle_heap: start-up objects frozen out "
            "of the garbage collector's passes, young collections every 10,000 allocations):\n"
        )
        run.say("| command | product answers/s | settled floor answers/s | ratio | settled floor p99 |")
        run.say("|---|---|---|---|---|")
        for key, label in (("start", "/start (returning)"), ("balance", "/balance")):
            pr = botbench.median([p[key]["rate"] for p, _ in runs])
            sr = botbench.median([e["settled"][key]["rate"] for _, e in runs])
            sp = botbench.median([e["settled"][key]["p99"] for _, e in runs])
            run.say(f"| {label} | {pr:,.0f} | {sr:,.0f} | {pr / sr:.2f} | {sp:.2f} s |")
        p = runs[-1][0]
        for key, label in (("per_update_start", "/start of a returning student"), ("per_update_balance", "/balance")):
            u = p[key]
            run.say(
                f"\nStatements per update, {label}: {u['statements']} statements in {u['transactions']} "
                f"transactions, {u['writes']} of them writes ({', '.join(u['kinds'])})."
            )


def section_memory(run: Run) -> None:
    url = f"sqlite:///{run.dir / 'memory.db'}"
    migrate(url)
    product = [botbench.memory("product", url, run.dir / "bot-data") for _ in range(run.args.repeat)]
    empty = [botbench.memory("empty", None, run.dir / "bot-data") for _ in range(run.args.repeat)]
    p, e = botbench.median(product), botbench.median(empty)
    run.results["memory"] = {"product": product, "empty": empty}
    run.say("\n### Bot resident memory after start (polling, one update handled)\n")
    run.say("| bot | RSS | ratio to the empty bot | target |")
    run.say("|---|---|---|---|")
    run.say(f"| product | {p:.0f} MB | {p / e:.2f} | < 1.2 |")
    run.say(f"| empty-handler aiogram bot (floor) | {e:.0f} MB | 1.00 | |")


def machine() -> str:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import sqlite3

    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    return (
        f"{platform.node()}: {os.cpu_count()} CPUs ({cpu}), {int(mem) // 1024:,} MB RAM, shared with other "
        f"engineers' work; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.platform()}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=("tiny", "small", "full"), default="small")
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--only", nargs="*", choices=SECTIONS, default=list(SECTIONS))
    ap.add_argument(
        "--panel",
        nargs="*",
        choices=PANEL_KINDS[1:],
        default=[],
        help="only these panel measures (and the floor); default all",
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cutoff", type=float, default=60.0, help="seconds before a panel measure is given up")
    ap.add_argument("--data-dir", help="keep (and reuse) generated databases here")
    ap.add_argument("--out", default=None, help="write the results as Markdown here")
    args = ap.parse_args(argv)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    run = Run(args)
    started = time.perf_counter()
    run.say(f"## Benchmarks ({args.size}, {', '.join(dbs)}), {run.now:%Y-%m-%d %H:%M} UTC\n")
    run.say(f"Machine: {machine()}\n")
    try:
        if "panel" in args.only:
            section_panel(run, dbs)
        if "money" in args.only:
            section_money(run)
        if "bot" in args.only:
            section_bot(run, dbs)
        if "memory" in args.only:
            section_memory(run)
    finally:
        run.cleanup()
    run.say(f"\nWhole run: {time.perf_counter() - started:.0f} s.")
    if args.out:
        Path(args.out).write_text("\n".join(run.lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
