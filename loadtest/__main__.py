"""`python -m loadtest [--pgbouncer]` (make loadtest / make scaletest): see loadtest/run.py."""

import sys

from loadtest.run import main

sys.exit(main())
