"""``python -m rfkernels``: the same as the ``rfkernels`` command."""

import sys

from .cli import main

sys.exit(main())
