"""The machine a benchmark ran on, for the line written beside its numbers in RESULTS.md."""
import os
import platform
import re
import subprocess
from typing import Tuple


def load_average() -> Tuple[float, float, float]:
    """The 1-, 5- and 15-minute load averages as ``uptime`` prints them (Linux and macOS); a
    benchmark only records them: nothing in allencv-lite decides anything from the load."""
    printed = subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout
    one, five, fifteen = re.search(r"load averages?: ([\d.]+),? ([\d.]+),? ([\d.]+)", printed).groups()
    return float(one), float(five), float(fifteen)


def describe_machine() -> str:
    """``Linux x86_64, 2 CPUs, load average 6.12 5.80 4.95``."""
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, load average "
            + " ".join(f"{value:.2f}" for value in load_average()))
