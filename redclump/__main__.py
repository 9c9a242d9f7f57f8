"""``python -m redclump``: the same command line as ``redclump``."""

import sys

from redclump.cli import main

sys.exit(main())
