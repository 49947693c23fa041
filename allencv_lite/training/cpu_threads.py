"""How many threads torch computes with while training: a number from the config, never from
the machine's load at that moment, so the same command does the same thing twice.

Each busy thread beyond the cores makes every parallel operation wait for a thread that is not
running: PyTorch's CPU threading notes ("CPU threading and TorchScript inference") advise
intra-op threads × processes ≤ cores. So by default each of the ``processes`` training together
computes with ``usable cores // processes - workers`` threads (at least 1), leaving a core to
each of its data loader's ``workers``; ``trainer.num_threads`` in the config chooses the number
instead (1 is steadiest on a machine shared with other work). ``usable cores`` are those this
process may run on (``os.sched_getaffinity``). ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``, when
set and no ``num_threads`` is given, is the user's choice and is left as it is.
"""
import contextlib
import logging
import os
from typing import Iterator, Optional

import torch

logger = logging.getLogger(__name__)

USER_SETTINGS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cores() -> int:
    """The CPU cores this process may run on (all of them where the OS cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def training_threads(num_workers: int, num_processes: int = 1, num_threads: Optional[int] = None) -> int:
    """Threads for one of ``num_processes`` training processes whose data loader has
    ``num_workers`` worker processes: ``num_threads`` when given, else ``usable_cores() //
    num_processes - num_workers``, at least 1."""
    if num_threads is not None:
        return num_threads
    return max(1, usable_cores() // max(num_processes, 1) - num_workers)


@contextlib.contextmanager
def training_thread_count(num_workers: int, num_processes: int = 1, num_threads: Optional[int] = None
                          ) -> Iterator[int]:
    """Within the block torch computes with :func:`training_threads` threads (yielded);
    afterwards with its number from before. Without ``num_threads``, a set ``OMP_NUM_THREADS``
    or ``MKL_NUM_THREADS`` leaves torch's number as it is."""
    before = torch.get_num_threads()
    if num_threads is None and any(name in os.environ for name in USER_SETTINGS):
        yield before
        return
    threads = training_threads(num_workers, num_processes, num_threads)
    if threads != before:
        why = ("trainer.num_threads" if num_threads is not None else
               f"{usable_cores()} usable core(s) // {num_processes} training process(es) - {num_workers} data loader "
               "worker(s); trainer.num_threads chooses another number")
        logger.info("Computing with %d torch thread(s) (%s).", threads, why)
        torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)
