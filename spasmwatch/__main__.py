"""``python -m spasmwatch``."""

import sys

from spasmwatch.cli import main

sys.exit(main())
