"""How many threads torch computes with while training, so that they and the data loader's
worker processes fit the CPU cores.

Each busy thread beyond the cores makes every parallel operation wait for the one that is not
running: PyTorch's CPU threading notes ("CPU threading and TorchScript inference") advise
intra-op threads × processes ≤ cores. While training, the process computes with
``min(cores // processes, torch's threads) - workers`` threads (at least 1), where ``cores`` are
those this process may run on (``os.sched_getaffinity``), torch's threads its number before
(by default its physical cores; a share of them in a process :func:`~allencv_lite.training.distributed.spawn`
started), ``processes`` the number training together (distributed) and ``workers`` the
training data loader's worker processes. ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``, when set,
is the user's choice and is left as it is.
"""
import contextlib
import logging
import os
from typing import Iterator

import torch

logger = logging.getLogger(__name__)

USER_SETTINGS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cores() -> int:
    """The CPU cores this process may run on (all of them where the OS cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def training_threads(num_workers: int, num_processes: int = 1, default_threads: int = 0) -> int:
    """Threads for one of ``num_processes`` training processes whose data loader has
    ``num_workers`` worker processes: ``min(usable cores // num_processes, default_threads) -
    num_workers``, at least 1 (``default_threads`` 0: torch's current number)."""
    cores = min(usable_cores() // max(num_processes, 1), default_threads or torch.get_num_threads())
    return max(1, cores - num_workers)


@contextlib.contextmanager
def threads_fitted_to_cores(num_workers: int, num_processes: int = 1) -> Iterator[int]:
    """Within the block torch uses :func:`training_threads` threads (unless ``OMP_NUM_THREADS``
    or ``MKL_NUM_THREADS`` is set); afterwards its number from before. Yields the number used."""
    before = torch.get_num_threads()
    if any(name in os.environ for name in USER_SETTINGS):
        yield before
        return
    threads = training_threads(num_workers, num_processes, before)
    torch.set_num_threads(threads)
    logger.info("Computing with %d torch thread(s): %d usable core(s), %d training process(es), %d data loader "
                "worker(s); set OMP_NUM_THREADS to choose yourself.", threads, usable_cores(), num_processes,
                num_workers)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)
