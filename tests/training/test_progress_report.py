"""What training shows: epoch lines, the kept epoch, and time estimates that know later epochs train more."""
import pytest

from allencv_lite.training.progress_report import (describe_kept_epoch, epoch_costs, estimate_training_seconds,
                                                   format_epoch_line)


def test_an_epoch_costs_one_forward_pass_plus_two_for_the_trained_fraction_of_the_weights():
    # the digits CNN of test_train_command: 116 encoder weights in group 0, 50 classifier weights in group 1
    assert epoch_costs([116, 50], 166, [[False, True], [True, True], None]) == pytest.approx([1 + 2 * 50 / 166, 3, 3])


def test_weights_frozen_for_the_whole_run_count_in_the_forward_pass_only():
    assert epoch_costs([50], 200, [None]) == [1.5]  # no_grad froze 150 of the 200 weights


def test_the_estimate_scales_each_later_epoch_by_its_planned_cost():
    costs = [1.6, 3.0, 3.0]
    assert estimate_training_seconds(0.1, 10, costs, epoch=0) == pytest.approx((1.0, 1.0 * (1.6 + 3 + 3) / 1.6))
    assert estimate_training_seconds(0.2, 10, costs, epoch=1) == pytest.approx((2.0, 4.0))


def test_without_unfreezing_the_estimate_is_epochs_left_times_one_epoch():
    assert estimate_training_seconds(0.5, 20, [3.0] * 4, epoch=1) == pytest.approx((10.0, 30.0))


EPOCH_10 = {"epoch": 9, "training_loss": 0.41234, "training_accuracy": 0.88149, "training_num_images": 1800,
            "training_images_per_second": 95.1, "validation_loss": 0.30111, "validation_accuracy": 0.95,
            "validation_num_images": 200, "lr_group_0": 2e-5, "lr_group_1": 2e-4, "training_num_skipped_files": 0,
            "validation_num_skipped_files": 0, "epoch_duration_seconds": 73.4}


def test_an_epoch_line_fits_a_100_column_terminal():
    line = format_epoch_line(9, 20, EPOCH_10)
    assert line == ("epoch 10/20 · training loss 0.412 accuracy 0.881 · validation loss 0.301 accuracy 0.950 · "
                    "1 min 13 s")
    assert len(line) <= 100


def test_an_epoch_line_counts_skipped_files():
    assert " · 3 files skipped · " in format_epoch_line(9, 20, {**EPOCH_10, "training_num_skipped_files": 2,
                                                                "validation_num_skipped_files": 1})


def final_metrics(best_epoch, last_epoch, best, last):
    return {"epoch": last_epoch, "best_epoch": best_epoch, "validation_loss": last[0], "validation_accuracy": last[1],
            "best_validation_loss": best[0], "best_validation_accuracy": best[1], "best_validation_num_images": 500}


def test_the_kept_epoch_line_names_the_best_epoch_and_the_last():
    final = final_metrics(2, 3, best=(0.0312, 0.994), last=(0.0401, 0.990))
    assert describe_kept_epoch(final, "accuracy") == ("kept epoch 3 of 4: validation accuracy 0.994 loss 0.031 "
                                                      "(last epoch: accuracy 0.990 loss 0.040)")


def test_the_kept_epoch_line_when_the_best_is_the_last():
    final = final_metrics(3, 3, best=(0.0312, 0.994), last=(0.0312, 0.994))
    assert describe_kept_epoch(final, "loss") == "kept epoch 4 of 4: validation loss 0.031 accuracy 0.994 (the last)"


def test_without_a_serialization_dir_the_line_says_the_model_holds_the_last_epoch():
    final = final_metrics(2, 3, best=(0.0312, 0.994), last=(0.0401, 0.990))
    assert describe_kept_epoch(final, "accuracy", keeps_best=False) == (
        "the model holds the last epoch, 4: validation accuracy 0.990 loss 0.040 (best, epoch 3: accuracy 0.994 "
        "loss 0.031)")


def test_a_run_stopped_before_its_first_epoch_ended_kept_nothing():
    assert describe_kept_epoch({"training_duration": "0:00:03"}) == "no epoch finished, so no weights were kept"
