"""``python -m allencv_lite`` is the ``allencv-lite`` command."""
from allencv_lite.commands import run_command_line

run_command_line()
