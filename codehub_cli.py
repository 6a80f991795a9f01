"""The `codehub` console script: core's commands plus `run`, which starts the panel and the bot.

A composition root: the only place that knows about core, the panel and the bot together.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from admin_panel.web.server import serve
from core import cli
from core.config import Settings
from core.db import migrate
from core.startup import startup_context


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """The panel, and the bot beside it when BOT_TOKEN is set: one command for a newcomer."""
    migrate(settings.effective_database_url)
    startup_context(settings)  # a wrong FIELD_ENCRYPTION_KEY stops here, with one line, before the bot starts
    children = []
    if settings.bot_token:
        children.append(subprocess.Popen([sys.executable, "-m", "bot"]))
    else:
        print(
            "BOT_TOKEN is not set: starting the admin panel only. Get a token from @BotFather "
            "(/newbot) and set BOT_TOKEN to run the bot too."
        )
    try:
        serve(settings)
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=20)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser({"run": ("run the admin panel (and the bot when BOT_TOKEN is set)", cmd_run)})
    parser.description = "CodeHub wallet and mentorship: database, accounts, demo data, checks, and `run`."
    return parser


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, parser=build_parser())


if __name__ == "__main__":
    raise SystemExit(main())
