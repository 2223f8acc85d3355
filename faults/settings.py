"""Settings of the private stacks (``make faulttest``, ``make loadtest``, ``make scaletest``).

The development settings with DEBUG off (so an outage is answered by ``handler500``,
a 503 with Retry-After, as in production), servers from DATABASE_URL / REDIS_URL
(set by faults.stack), and one knob the fault harness needs:

``STACK_VISIBILITY_TIMEOUT`` (seconds): when set, the Redis broker hands a message
that a dead worker had taken (delivered, never acknowledged) to another worker after
this long instead of the product's ``CELERY_VISIBILITY_TIMEOUT`` (280 s), and looks for
such messages every second instead of every 10 s. The harness shortens it so that
a SIGKILLed worker's jobs come back within the run; the figure it measures is then
"visibility timeout + sweep", and the product's own delay follows from the same
formula (see docs/RELIABILITY.md).
"""

import os

from config.settings.local import *  # noqa: F403
from config.settings.local import CELERY_BROKER_TRANSPORT_OPTIONS

DEBUG = False

_visibility = os.environ.get("STACK_VISIBILITY_TIMEOUT")
if _visibility:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "visibility_timeout": int(_visibility),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
