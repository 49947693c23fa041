"""Training: the trainer, optimizers and callbacks."""
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.optimizers import Optimizer
from allencv_lite.training.trainer import Trainer

__all__ = ["Optimizer", "Trainer", "TrainerCallback"]
