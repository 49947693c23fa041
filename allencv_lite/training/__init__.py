"""Training: the trainer, optimizers, learning-rate schedulers and callbacks (each imported on first use)."""
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "TrainerCallback": f"{__name__}.callbacks",
    "LearningRatePlan": f"{__name__}.learning_rate_schedulers",
    "LearningRateScheduler": f"{__name__}.learning_rate_schedulers",
    "plan_learning_rates": f"{__name__}.learning_rate_schedulers",
    "Optimizer": f"{__name__}.optimizers",
    "Trainer": f"{__name__}.trainer",
})
__all__ = __dir__()
