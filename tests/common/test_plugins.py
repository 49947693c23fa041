"""``--include-package``: one importer for the commands and the demo server, and no import upward."""
import subprocess
import sys

import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.plugins import import_plugins


def test_a_package_that_cannot_be_imported_is_named_with_the_reason():
    with pytest.raises(ConfigurationError) as error:
        import_plugins(["json", "no_such_package_here"])
    assert str(error.value) == ("--include-package no_such_package_here: cannot import it (No module named "
                                "'no_such_package_here').")


def test_the_demo_server_and_its_entry_point_import_nothing_from_the_command_line():
    probe = ("import sys, allencv_lite.service.server_simple as server; "
             "server.main(['--archive-path', 'missing.tar.gz', '--include-package', 'json']); "
             "print(sorted(name for name in sys.modules if name.startswith('allencv_lite.commands')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.stdout.strip() == "[]"
    assert result.stderr.splitlines()[-1] == "allencv-lite: error: Archive missing.tar.gz does not exist."
