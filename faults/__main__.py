"""`python -m faults` (make faulttest): see faults/harness.py."""

import sys

from faults.harness import main

sys.exit(main())
