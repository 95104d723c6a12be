"""`python -m rosenblatt ...` is the `rosenblatt` command (so `rosenblatt launch -m rosenblatt
train ...` trains in several processes)."""

import sys

from .cli import main

sys.exit(main())
