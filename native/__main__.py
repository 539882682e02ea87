"""`python -m tracerd.native`: the worker process (config on stdin)."""

import sys

from ._worker import main

sys.exit(main())
