"""``allencv-lite serve`` (and ``python -m allencv_lite.service.server_simple``): options and refusals."""
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


def test_the_module_entry_point_runs_the_serve_command(tmp_path, capsys):
    """``python -m allencv_lite.service.server_simple ARGS`` exits with ``server_simple.main(ARGS)``."""
    assert server_simple.main(["--archive-path", str(tmp_path / "model.tar.gz"), "--classification"]) == 2
    assert "model.tar.gz does not exist" in capsys.readouterr().err
