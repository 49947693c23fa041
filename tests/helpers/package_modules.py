"""Every module of the package imported, so that every registered name is in its registry."""
import importlib
import pkgutil

import allencv_lite


def import_every_module() -> None:
    """Import every module of allencv_lite (``__main__`` would run the command line)."""
    for module in pkgutil.walk_packages(allencv_lite.__path__, "allencv_lite."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
