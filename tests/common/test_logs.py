"""The command line's logging: one line per record, INFO and above, torch's own loggers at WARNING."""
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
