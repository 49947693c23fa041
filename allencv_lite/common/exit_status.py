"""How a program ends on an error its user can fix: one line on standard error and an exit
status, never a traceback (the command line and the demo server)."""
import sys
from typing import Callable

from allencv_lite.common.checks import ConfigurationError, Interrupted

INTERRUPTED_STATUS = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


def exit_status(run: Callable[[], int], program: str = "allencv-lite") -> int:
    """Call ``run`` and return its exit status, turning the errors a user can fix into one line
    on standard error instead of a traceback: ``ConfigurationError`` -> 2, ``Interrupted`` and
    Ctrl-C -> 130 (:data:`INTERRUPTED_STATUS`). Used by the command line and the demo server."""
    try:
        return run() or 0
    except ConfigurationError as error:
        print(f"{program}: error: {error}", file=sys.stderr)
        return 2
    except Interrupted as error:
        print(f"{program}: interrupted: {error}", file=sys.stderr)
        return INTERRUPTED_STATUS
    except KeyboardInterrupt:
        print(f"{program}: interrupted.", file=sys.stderr)
        return INTERRUPTED_STATUS
