"""The command line's logging: one line per record, INFO and above, torch's own loggers at WARNING, and
other libraries' INFO records kept out while they work for us."""
import logging
import subprocess
import sys


def test_torchs_info_records_stay_out_of_the_log_even_before_torch_has_set_its_level():
    # Before (or without) torch's complete import, torch's loggers inherit the root's INFO: a Ctrl-C
    # during that import let "FakeTensor cache stats" lines through after "allencv-lite: interrupted."
    run = ("import logging\n"
           "from allencv_lite.common.logs import log_to_stderr\n"
           "log_to_stderr()\n"
           "logging.getLogger('torch._subclasses.fake_tensor').info('FakeTensor cache stats:')\n"
           "logging.getLogger('torch._subclasses.fake_tensor').warning('a warning of torch')\n"
           "logging.getLogger('allencv_lite.training.from_config').info('Wrote model.tar.gz')\n")
    logged = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True, timeout=60).stderr
    assert [line.split(" ", 2)[2] for line in logged.splitlines()] == [
        "WARNING torch._subclasses.fake_tensor: a warning of torch", "INFO allencv_lite.training.from_config: Wrote model.tar.gz"]


def test_warnings_only_from_drops_a_librarys_info_records_in_the_block_and_gives_each_logger_its_level_back(caplog):
    from allencv_lite.common.logs import warnings_only_from

    logging.getLogger("quiet_test.strict").setLevel(logging.ERROR)
    caplog.set_level(logging.INFO)
    with warnings_only_from("quiet_test", "quiet_test.strict"):
        logging.getLogger("quiet_test.optimizer").info("Removed 20 unused nodes")
        logging.getLogger("quiet_test.optimizer").warning("a warning of the library")
        logging.getLogger("quiet_test.strict").warning("below the level its user gave it")
        logging.getLogger("allencv_lite.export").info("ours")
    logging.getLogger("quiet_test.optimizer").info("after the block")
    assert [record.getMessage() for record in caplog.records] == ["a warning of the library", "ours", "after the block"]
    assert logging.getLogger("quiet_test.strict").level == logging.ERROR
