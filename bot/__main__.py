"""`python -m bot`: the same as run_bot.py."""

import sys

from bot.runner import main

sys.exit(main())
