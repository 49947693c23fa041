"""How many threads torch computes with while training, so that they, the data loader's worker
processes and whatever else is running fit the CPU cores.

Each busy thread beyond the cores makes every parallel operation wait for a thread that is not
running: PyTorch's CPU threading notes ("CPU threading and TorchScript inference") advise
intra-op threads × processes ≤ cores. Measured on the shared 2-core machine: with others' work
keeping the load average at 6-8, an epoch of ``cats_dogs_cpu.jsonnet`` on 200 images per class
took 14.7 s with torch's default 2 threads and 4.6 s with 1 (``benchmarks/shared_cpu.py``); at a
load average of 1.7, training steps were 1.6-1.8× faster with 2 threads than with 1 (that CNN at
64 px and EfficientNet-Lite0 at 192 px). So the process keeps the cores it has to itself
(``spare`` = ``min(cores // processes, torch's threads) - workers``) until other programs fill
them, and then computes with 1 thread: at the start of each epoch it uses ``spare`` threads if
fewer than ``spare`` other threads are running, else 1. ``cores`` are those this process may run
on (``os.sched_getaffinity``), torch's threads its number before training (by default its
physical cores; a share of them in a process :func:`~allencv_lite.training.distributed.spawn`
started), ``processes`` the number training together (distributed), ``workers`` the training
data loader's worker processes, and the other threads are counted by :func:`busy_elsewhere`.
``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``, when set, is the user's choice and is left as it is.
"""
import contextlib
import logging
import os
import statistics
import time
from typing import Callable, Iterator

import torch

logger = logging.getLogger(__name__)

USER_SETTINGS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
LOAD_FILE = "/proc/loadavg"  # Linux: "0.52 0.58 0.59 3/467 12345", the 4th field running/all threads
LOAD_SAMPLES, LOAD_SAMPLE_SECONDS = 9, 0.01


def usable_cores() -> int:
    """The CPU cores this process may run on (all of them where the OS cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def busy_elsewhere(own_threads: int = 1) -> int:
    """Threads running on the machine besides ``own_threads`` of this program: the median of
    :data:`LOAD_SAMPLES` readings of the running count in ``/proc/loadavg`` (the kernel's
    ``nr_running``) over about 0.1 s, less ``own_threads``; 0 where there is no such file."""
    try:
        readings = []
        for _ in range(LOAD_SAMPLES):
            with open(LOAD_FILE) as load:
                readings.append(int(load.read().split()[3].split("/")[0]))
            time.sleep(LOAD_SAMPLE_SECONDS)
    except (OSError, IndexError, ValueError):
        return 0
    return max(0, int(statistics.median(readings)) - own_threads)


def training_threads(num_workers: int, num_processes: int = 1, default_threads: int = 0, busy: int = 0) -> int:
    """Threads for one of ``num_processes`` training processes whose data loader has
    ``num_workers`` worker processes, with ``busy`` other threads running: ``spare = min(usable
    cores // num_processes, default_threads) - num_workers`` (at least 1) while ``busy`` is
    below it, else 1 (``default_threads`` 0: torch's current number)."""
    cores = min(usable_cores() // max(num_processes, 1), default_threads or torch.get_num_threads())
    spare = max(1, cores - num_workers)
    return spare if busy < spare else 1


@contextlib.contextmanager
def threads_fitted_to_cores(num_workers: int, num_processes: int = 1) -> Iterator[Callable[[], int]]:
    """Yields a function that sets torch's threads to :func:`training_threads` for the machine's
    load at that moment and returns them (call it at the start of each epoch); afterwards torch
    has its number from before. With ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` set the
    function changes nothing."""
    before = torch.get_num_threads()
    if any(name in os.environ for name in USER_SETTINGS):
        yield lambda: before
        return

    def fit() -> int:
        busy = busy_elsewhere(own_threads=num_processes)
        threads = training_threads(num_workers, num_processes, before, busy)
        if threads != torch.get_num_threads():
            logger.info("Computing with %d torch thread(s): %d usable core(s), %d training process(es), %d data "
                        "loader worker(s), %d other thread(s) running; set OMP_NUM_THREADS to choose yourself.",
                        threads, usable_cores(), num_processes, num_workers, busy)
            torch.set_num_threads(threads)
        return threads

    try:
        yield fit
    finally:
        torch.set_num_threads(before)
