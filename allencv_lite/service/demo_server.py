"""The web demo in a child process: what a notebook starts, queries and stops
(:class:`DemoServer`), serving with :mod:`allencv_lite.service.server_simple`."""
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import List, Optional, Union

from allencv_lite.common.network import free_loopback_port


class DemoServer:
    """The web demo (``python -m allencv_lite.service.server_simple``) in a child process on a
    free loopback port, so a notebook can start it, query it and stop it.

    Use :meth:`start`, then :attr:`url`; :meth:`stop` ends it (also on leaving a ``with`` block).
    The server's log goes to ``log_file``.

    Args:
        process: the running server.
        url: ``http://127.0.0.1:<port>/``.
        log_file: where its output goes.
    """

    def __init__(self, process: "subprocess.Popen[bytes]", url: str, log_file: Path) -> None:
        self.process = process
        self.url = url
        self.log_file = log_file

    @classmethod
    def start(cls, archive_path: Union[str, os.PathLike], log_file: Union[str, os.PathLike],
              extra_arguments: Optional[List[str]] = None, timeout: float = 120.0) -> "DemoServer":
        """Start the demo for ``archive_path`` and wait until it answers ``GET /``.

        Args:
            archive_path: a ``model.tar.gz``.
            log_file: file for the server's output (created or overwritten).
            extra_arguments: more options of the server, e.g. ``["--title", "Cats and Dogs"]``.
            timeout: seconds to wait for the first answer (loading the model takes a few).

        Raises:
            RuntimeError: the server exited or did not answer within ``timeout``; the message
                ends with its log.
        """
        port = free_loopback_port()
        log_file = Path(log_file)
        command = [sys.executable, "-m", "allencv_lite.service.server_simple", "--archive-path", str(archive_path),
                   "--host", "127.0.0.1", "--port", str(port), *(extra_arguments or [])]
        with open(log_file, "wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = cls(process, f"http://127.0.0.1:{port}/", log_file)
        deadline = time.monotonic() + timeout
        while not server._answers():
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"The demo server did not start (exit status {process.returncode}); its log:\n"
                                   + log_file.read_text(encoding="utf-8", errors="replace"))
            time.sleep(0.25)
        return server

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=2):
                return True
        except (urllib.error.URLError, OSError):
            return False

    @property
    def running(self) -> bool:
        """Whether the process is still alive."""
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` seconds); returns its exit
        status (``-15`` after SIGTERM on POSIX)."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> "DemoServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
