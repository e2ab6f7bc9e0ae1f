"""``python -m gnnkit`` runs the command line."""

import sys

from gnnkit.cli import main

sys.exit(main())
