"""A free TCP port on this machine, for the web demo a notebook starts and for the
rendezvous of data-parallel training processes."""
import socket


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it). Another
    program may take it before it is used; callers that bind it themselves can pass port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
