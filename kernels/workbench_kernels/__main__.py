"""``python -m workbench_kernels ...``: see :mod:`workbench_kernels.cli`."""

import sys

from workbench_kernels.cli import main

sys.exit(main())
