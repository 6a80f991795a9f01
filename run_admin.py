"""Entry point: read config, migrate, serve the admin panel (waitress; --debug for Flask's dev server)."""

from __future__ import annotations

import argparse
import sys

from admin_panel.web.server import serve
from core.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="CodeHub admin panel")
    parser.add_argument("--debug", action="store_true", help="Flask's development server with debugging")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        serve(settings, debug=args.debug)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
