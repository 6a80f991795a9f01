"""The layout holds: core imports nothing above it, and the edges (panel, API, bot handlers) build no
queries of their own: they call core services, which own every rule and query (issue 11)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABOVE_CORE = ("bot", "admin_panel", "codehub_cli", "run_bot", "run_admin")
EDGES = [
    *sorted((ROOT / "admin_panel").rglob("*.py")),
    *sorted((ROOT / "bot" / "handlers").glob("*.py")),
    *sorted((ROOT / "bot" / "ui").glob("*.py")),
]
QUERY_BUILDERS = {
    "select",
    "update",
    "insert",
    "delete",
    "func",
    "text",
    "case",
    "cast",
    "and_",
    "or_",
    "true",
    "false",
    "exists",
    "join",
    "outerjoin",
    "literal_column",
}
SESSION_CALLS = {"query", "execute", "scalar", "scalars", "get", "add", "add_all", "delete", "merge", "flush", "commit"}
SESSION_NAMES = {"s", "session", "db_session", "sync_session"}

# What an edge may still do, each with the reason. Flask-Admin's ModelViews declare their list (its own
# query, filters, sort); ordering or summing that list is Flask-Admin's job, not a service's.
ALLOWED = {
    ("admin_panel/panel/bookings.py", "sqlalchemy.case"): "default sort of Flask-Admin's booking list",
    ("admin_panel/panel/topups.py", "sqlalchemy.case"): "default sort of Flask-Admin's top-up list",
}


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):  # function-local imports too
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _receiver(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name) and node.id in SESSION_NAMES:
        return node.id
    if isinstance(node, ast.Attribute) and node.attr == "session":
        return "session"
    return None


def query_building(path: Path) -> list[tuple[int, str]]:
    """(line, what) for every SQLAlchemy query builder imported and every session query call."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            found += [(node.lineno, f"sqlalchemy.{a.name}") for a in node.names if a.name in QUERY_BUILDERS]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, "import sqlalchemy") for a in node.names if a.name == "sqlalchemy"]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_CALLS
            and _receiver(node.func.value)
        ):
            found.append((node.lineno, f"session.{node.func.attr}"))
    return found


def test_core_imports_nothing_above_it():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "core").rglob("*.py"))
        for line, module in _imported_modules(_tree(path))
        if module.split(".")[0] in ABOVE_CORE
    ]
    assert offenders == []


# core from the bottom up: a module may import only from its own level or below, even inside a function. The lowest
# levels (config, db) import no service; opening a database with its key check is core.startup's, above the services.
CORE_LEVELS = [
    ("core.errors", "core.timeutil", "core.crypto", "core.text", "core.logs"),
    ("core.money", "core.words"),
    ("core.phone", "core.sms"),
    ("core.business_settings",),
    ("core.config",),
    ("core.models",),
    ("core.db",),
    ("core.services",),
    ("core.startup", "core.backup", "core.demo", "core.cli", "core.__main__"),
]


def core_level(module: str) -> int | None:
    for level, names in enumerate(CORE_LEVELS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return level
    return None


def core_modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return found


def test_no_module_of_core_imports_one_above_it():
    offenders = []
    for module, path in core_modules():
        if module == "core":
            continue  # the package's own docstring
        own = core_level(module)
        assert own is not None, f"{module}: give it a level in CORE_LEVELS"
        offenders += [
            f"{path.relative_to(ROOT)}:{line} imports {imported}"
            for line, imported in _imported_modules(_tree(path))
            if imported.startswith("core") and (core_level(imported) or 0) > own
        ]
    assert offenders == []


def test_edges_build_no_queries_of_their_own():
    offenders = []
    for path in EDGES:
        rel = path.relative_to(ROOT).as_posix()
        offenders += [f"{rel}:{line} {what}" for line, what in query_building(path) if (rel, what) not in ALLOWED]
    assert offenders == [], "call a core service instead (or add to ALLOWED with the reason)"


def test_the_checks_catch_what_they_should(tmp_path):
    """The walkers are not vacuous: a query in an edge and a panel import in core are found."""
    sample = tmp_path / "edge.py"
    sample.write_text(
        "from sqlalchemy import select, update\n"
        "def view(s, self):\n"
        "    s.execute(select(1))\n"
        "    return self.session.query(1).count(), self.session.get(object, 1)\n"
    )
    assert {what for _, what in query_building(sample)} == {
        "sqlalchemy.select",
        "sqlalchemy.update",
        "session.execute",
        "session.query",
        "session.get",
    }
    assert ("bot", "admin_panel.web.server") == tuple(
        m
        for _, m in _imported_modules(ast.parse("import bot\ndef f():\n    from admin_panel.web.server import serve\n"))
    )


def test_run_lives_in_the_composition_module_not_in_core():
    import codehub_cli
    from core import cli

    def commands(parser):
        return set(parser._subparsers._group_actions[0].choices)

    assert "run" in commands(codehub_cli.build_parser())
    assert commands(codehub_cli.build_parser()) - {"run"} == commands(cli.build_parser())
