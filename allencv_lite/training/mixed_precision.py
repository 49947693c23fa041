"""Mixed precision on CUDA: which float type ``torch.autocast`` computes in, and whether the
loss needs scaling.

bfloat16 has float32's exponent range, so gradients neither underflow nor overflow and no
loss scaling is needed; GPUs from NVIDIA's Ampere generation on (compute capability 8.0+)
compute in it natively (``torch.cuda.is_bf16_supported``). Older GPUs get float16, whose small
range needs a ``torch.amp.GradScaler`` (Micikevicius et al. 2018, "Mixed Precision Training").
On the CPU mixed precision is off: the same code runs with autocast and the scaler disabled.
"""
import logging
from typing import Optional

import torch

logger = logging.getLogger(__name__)


def autocast_dtype(device: torch.device, use_amp: bool) -> Optional[torch.dtype]:
    """The dtype autocast computes in on ``device``: ``torch.bfloat16`` where the current CUDA
    device supports it (the process's own GPU: distributed training sets it first), else
    ``torch.float16`` on CUDA; ``None`` (float32, autocast off) when ``use_amp`` is false or
    ``device`` is not a CUDA device (logged as a warning then)."""
    if not use_amp:
        return None
    if device.type != "cuda":
        logger.warning("use_amp needs a CUDA device; training on %s in float32.", device)
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def needs_loss_scaling(dtype: Optional[torch.dtype]) -> bool:
    """Whether gradients computed in ``dtype`` need a ``GradScaler`` (float16 only)."""
    return dtype == torch.float16
