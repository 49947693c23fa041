"""Training: the trainer, optimizers, learning-rate schedulers and callbacks."""
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.learning_rate_schedulers import LearningRatePlan, LearningRateScheduler, plan_learning_rates
from allencv_lite.training.optimizers import Optimizer
from allencv_lite.training.trainer import Trainer

__all__ = ["LearningRatePlan", "LearningRateScheduler", "Optimizer", "Trainer", "TrainerCallback",
           "plan_learning_rates"]
