"""Start-up: the command line imports what a subcommand needs, when it runs, and nothing before.

Each case runs in a fresh interpreter and reads its ``sys.modules`` afterwards.
"""
import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List

from allencv_lite.commands import build_parser

HEAVY_LIBRARIES = ("torch", "timm", "albumentations", "torchmetrics", "flask")
REPOSITORY = Path(__file__).resolve().parents[2]


def run_command_line(argv: List[str]) -> Dict[str, object]:
    """Run ``allencv-lite ARGV`` in a new interpreter; its exit status, stderr and which of the
    heavy libraries (plus torchvision) it had imported when it exited."""
    script = textwrap.dedent(f"""
        import json, sys
        from allencv_lite.commands import main
        try:
            status = main({argv!r})
        except SystemExit as exit:
            status = exit.code
        loaded = [name for name in {HEAVY_LIBRARIES + ("torchvision",)!r} if name in sys.modules]
        print(json.dumps({{"status": status, "loaded": loaded}}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPOSITORY,
                            timeout=300)
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "stderr": result.stderr}


def test_help_imports_no_heavy_library():
    result = run_command_line(["--help"])
    assert result["status"] == 0
    assert result["loaded"] == []


def subcommand_names() -> List[str]:
    """Every subcommand of ``allencv-lite``, as its parser knows them."""
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


def test_every_subcommand_help_imports_no_heavy_library():
    for command in subcommand_names():
        result = run_command_line([command, "--help"])
        assert (command, result["status"], result["loaded"]) == (command, 0, [])


def test_a_config_error_is_reported_before_any_heavy_import(tmp_path):
    config = tmp_path / "typo.json"
    config.write_text(json.dumps({"dataset_reader": {}, "train_data_path": "x", "model": {}, "trainer": {},
                                  "trainr": {}}))
    result = run_command_line(["train", str(config), "-s", str(tmp_path / "run")])
    assert result["status"] == 2
    assert "config: unexpected key(s) ['trainr'] for an experiment. Did you mean 'trainer'?" in result["stderr"]
    assert result["loaded"] == []


def test_predicting_with_a_cnn_imports_neither_timm_nor_torchmetrics_nor_flask(digits_archive, digits_dir, tmp_path):
    image = sorted((digits_dir / "val" / "0").iterdir())[0]
    lines = tmp_path / "input.jsonl"
    lines.write_text(json.dumps({"image_path": str(image)}) + "\n")
    result = run_command_line(["predict", str(digits_archive), str(lines), "--silent"])
    assert result["status"] == 0, result["stderr"]
    assert result["loaded"] == ["torch", "albumentations"]
