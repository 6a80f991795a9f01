"""Run the CodeHub student bot (long polling, or a webhook when WEBHOOK_URL is set)."""

import sys

from bot.runner import main

if __name__ == "__main__":
    sys.exit(main())
