"""A misspelt subcommand, option or choice: argparse's usage of the command it belongs to, and "did you mean"."""
import pytest

from allencv_lite.commands import main


def error_of(arguments, capsys) -> str:
    """What ``allencv-lite ARGUMENTS`` prints on stderr; it must exit with status 2 before any work."""
    with pytest.raises(SystemExit) as exit_:
        main(arguments)
    assert exit_.value.code == 2
    return capsys.readouterr().err


def test_a_misspelt_subcommand_gets_the_top_level_usage_and_the_closest_command(capsys):
    err = error_of(["trian", "config.jsonnet"], capsys)
    assert err.startswith("usage: allencv-lite [-h] COMMAND ...")
    assert err.splitlines()[-1].endswith("invalid choice: 'trian' (choose from 'train', 'find-lr', 'predict', "
                                         "'evaluate', 'serve', 'audit', 'export'); did you mean train?")


def test_a_misspelt_option_gets_its_command_s_usage_and_the_closest_option(capsys):
    err = error_of(["predict", "model.tar.gz", "photos/", "--bach-size", "32"], capsys)
    assert err.startswith("usage: allencv-lite predict [-h]")
    assert err.splitlines()[-1] == ("allencv-lite predict: error: unrecognized arguments: --bach-size 32; "
                                    "did you mean --batch-size?")


def test_an_option_misspelt_with_its_value_after_an_equals_sign_is_recognised(capsys):
    err = error_of(["evaluate", "model.tar.gz", "data/val", "--cuda-devise=0"], capsys)
    assert err.splitlines()[-1].endswith("unrecognized arguments: --cuda-devise=0; did you mean --cuda-device?")


def test_each_of_two_misspelt_options_gets_its_suggestion(capsys):
    err = error_of(["audit", "data/", "--fods", "3", "--ouput-file", "a.json"], capsys)
    assert err.splitlines()[-1].endswith("unrecognized arguments: --fods 3 --ouput-file a.json; "
                                         "did you mean --folds, --output-file?")


def test_a_misspelt_choice_of_an_option_gets_the_closest_choice(capsys):
    err = error_of(["export", "model.tar.gz", "--format", "onx"], capsys)
    assert err.startswith("usage: allencv-lite export")
    assert err.splitlines()[-1].endswith("argument --format: invalid choice: 'onx' (choose from 'onnx'); "
                                         "did you mean onnx?")


def test_a_misspelt_required_option_is_named_beside_the_one_it_resembles(capsys):
    err = error_of(["serve", "--archve-path", "model.tar.gz"], capsys)
    assert err.splitlines()[-1] == ("allencv-lite serve: error: the following arguments are required: --archive-path "
                                    "(unrecognized: --archve-path); did you mean --archive-path?")


def test_an_abbreviated_option_is_no_mistake_and_a_negative_number_no_option(capsys):
    err = error_of(["evaluate", "model.tar.gz", "data/val", "--batch", "8", "--cuda-device", "-1", "extra"], capsys)
    assert err.splitlines()[-1] == "allencv-lite evaluate: error: unrecognized arguments: extra"


def test_nothing_close_gets_argparse_s_message_alone(capsys):
    err = error_of(["serve", "--archive-path", "model.tar.gz", "--zzz"], capsys)
    assert err.splitlines()[-1] == "allencv-lite serve: error: unrecognized arguments: --zzz"

