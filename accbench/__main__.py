"""``python -m accbench`` runs the CLI."""

import sys

from accbench.cli import main

sys.exit(main())
