"""``python -m rfkernels.cli``: the same as the ``rfkernels`` command."""

import sys

from . import main

sys.exit(main())
