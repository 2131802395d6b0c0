"""Lets `python -m ergo` behave exactly like the `ergo` console script."""

import sys

from ergo.cli import main

sys.exit(main())
