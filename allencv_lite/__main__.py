"""``python -m allencv_lite`` is the ``allencv-lite`` command."""
import sys

from allencv_lite.commands import main

sys.exit(main())
