"""`python -m ui.cli`: the `smart-inbox` command without its installed script."""

import sys

from ui.cli import main

sys.exit(main())
