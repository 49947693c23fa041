"""``allencv-lite serve`` (and ``python -m allencv_lite.service.server_simple``): options and refusals."""
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from allencv_lite.commands import build_parser, main
from allencv_lite.service import server_simple


def test_the_demo_listens_on_loopback_port_8000_with_a_10_mib_limit_by_default():
    args = build_parser().parse_args(["serve", "--archive-path", "model.tar.gz"])
    assert (args.host, args.port, args.max_upload_mb, args.predictor) == ("127.0.0.1", 8000, 10.0, "default_image")
    assert not args.classification


def test_a_non_positive_upload_limit_exits_2_before_loading(tmp_path, capsys):
    status = main(["serve", "--archive-path", str(tmp_path / "model.tar.gz"), "--max-upload-mb", "0"])
    assert status == 2
    assert "--max-upload-mb must be positive, got 0.0" in capsys.readouterr().err


def test_a_min_confidence_outside_0_and_1_exits_2_in_one_line_before_loading(tmp_path, capsys):
    assert main(["serve", "--archive-path", str(tmp_path / "model.tar.gz"), "--min-confidence", "1.5"]) == 2
    assert capsys.readouterr().err == "allencv-lite: error: --min-confidence must be between 0 and 1 (e.g. 0.8), got 1.5.\n"


def test_the_module_entry_point_runs_the_serve_command(tmp_path, capsys):
    """``python -m allencv_lite.service.server_simple ARGS`` exits with ``server_simple.main(ARGS)``."""
    assert server_simple.main(["--archive-path", str(tmp_path / "model.tar.gz"), "--classification"]) == 2
    assert "model.tar.gz does not exist" in capsys.readouterr().err


def start_server(archive, *arguments: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "allencv_lite", "serve", "--archive-path", str(archive), *arguments],
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ, **options)


def test_a_port_in_use_is_one_line_and_serving_is_never_announced(digits_archive):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = start_server(digits_archive, "--port", str(port))
        _, err = server.communicate(timeout=300)
    assert server.returncode == 2
    assert "Serving" not in err
    assert err.splitlines() == [f"allencv-lite: error: Cannot listen on 127.0.0.1 port {port}: Address already in use. "
                                "Pass another --port, or stop the program that uses this one."]


def announced_port(server: subprocess.Popen, title: str) -> int:
    """The port in the server's "Serving 'TITLE' on http://127.0.0.1:PORT/" line, once it is logged."""
    announced = ""
    while "Serving" not in announced:
        announced = server.stderr.readline()
        assert announced, "the server exited before announcing"
    return int(re.search(rf"Serving '{title}' on http://127\.0\.0\.1:(\d+)/$", announced.strip()).group(1))


def test_serving_is_announced_on_the_bound_port_which_answers_and_ctrl_c_stops_it_with_0(digits_archive):
    server = start_server(digits_archive, "--port", "0", "--title", "Digits")  # port 0: the system picks a free one
    try:
        port = announced_port(server, "Digits")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=30) as response:
            assert response.status == 200
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0
    assert "Traceback" not in err and "Stopped." in err


def test_requests_are_logged_without_terminal_colours_when_the_log_is_not_a_terminal(digits_archive):
    server = start_server(digits_archive, "--port", "0")  # its standard error is a pipe, as `serve 2> demo.log` is
    try:
        port = announced_port(server, "allencv-lite demo")
        with pytest.raises(urllib.error.HTTPError, match="404"):  # Werkzeug colours a 404 yellow on a terminal
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nowhere", timeout=30)
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert '"GET /nowhere HTTP/1.1" 404' in err
    assert "\x1b" not in err


@pytest.mark.parametrize("command, defaults", [
    ("serve", ["TCP port (default: 8000)", "(default: 127.0.0.1)", "(default: default_image)", "(default: 10.0)"]),
    ("predict", ["(default: default_image)", "images per forward pass (default: 1)", "(default: -1)"]),
    ("evaluate", ["images per forward pass (default: 32)", "(default: -1)"]),
    ("train", []),
])
def test_each_subcommands_help_shows_its_defaults_but_not_none_or_false(command, defaults):
    shown = subprocess.run([sys.executable, "-m", "allencv_lite", command, "--help"], capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert shown.returncode == 0
    for default in defaults:
        assert default in shown.stdout
    assert "(default: None)" not in shown.stdout and "(default: False)" not in shown.stdout
    assert "(default: [])" not in shown.stdout


def test_a_server_started_in_the_background_by_a_script_stops_cleanly_on_kill_int(digits_archive):
    # a shell starts `serve ... &` with SIGINT ignored: the user's `kill -INT` did nothing
    server = start_server(digits_archive, "--port", "0",
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        announced_port(server, "allencv-lite demo")
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0
    assert "Traceback" not in err and err.endswith("Stopped.\n")
