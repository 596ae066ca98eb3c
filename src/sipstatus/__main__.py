"""``python -m sipstatus`` and the ``sipstatus`` console script."""

from __future__ import annotations

import sys

from sipstatus._cli import main

if __name__ == "__main__":
    sys.exit(main())
