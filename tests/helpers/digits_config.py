"""A training config small enough for any test that trains on the embedded digits end to end."""
from pathlib import Path

NUM_EPOCHS = 3


def tiny_digits_config(digits_dir: Path, **trainer) -> dict:
    """Logistic regression on 8×8 digit images with dropout, flip augmentation, a slanted
    triangular schedule, gradient accumulation and clipping: small, but every random stream
    and every piece of trainer state takes part. ``NUM_EPOCHS`` epochs of 23 batches of 64
    images; keyword arguments replace or add keys of the ``trainer`` block."""
    resize_and_normalize = [{"type": "resize", "height": 8, "width": 8},
                            {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}]
    return {
        "dataset_reader": {"type": "image_classification_directory", "lazy": False,
                           "augmentation": resize_and_normalize + [{"type": "flip", "p": 0.5}]},
        "validation_dataset_reader": {"type": "image_classification_directory", "lazy": False,
                                      "augmentation": resize_and_normalize},
        "train_data_path": str(digits_dir / "train"),
        "validation_data_path": str(digits_dir / "val"),
        "model": {"type": "basic_image_classifier", "dropout": 0.2,
                  "im2vec_encoder": {"type": "flatten", "input_channels": 3, "input_height": 8, "input_width": 8}},
        "iterator": {"type": "basic", "batch_size": 64},
        "trainer": {"num_epochs": NUM_EPOCHS, "cuda_device": -1, "validation_metric": "+accuracy",
                    "optimizer": {"type": "adam", "lr": 0.02},
                    "learning_rate_scheduler": {"type": "slanted_triangular"},
                    "num_gradient_accumulation_steps": 2, "grad_norm": 5.0, **trainer},
    }
