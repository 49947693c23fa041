"""The contract every image-to-image encoder (backbone) honours."""
import torch

from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable


class Im2ImEncoder(torch.nn.Module, Registrable, FromParams):
    """Maps images ``(batch, in_channels, height, width)`` to feature maps
    ``(batch, get_output_channels(), out_height, out_width)``.

    Frozen batch norms stay frozen: in training mode, a BatchNorm layer whose weight and bias
    do not require gradients (``requires_grad: false``, or a group that gradual unfreezing has
    not reached yet) is kept in evaluation mode, so it normalizes with its stored running
    statistics and does not update them. A frozen layer then computes exactly what it did
    before training, as with Keras' non-trainable ``BatchNormalization`` and detectron2's
    ``FrozenBatchNorm2d``; otherwise small batches of new images would shift ImageNet's
    statistics under the layers above. An encoder that sets ``self.freeze_batch_norm = True``
    keeps *every* BatchNorm layer in evaluation mode, trainable or not.
    """

    freeze_batch_norm: bool = False
    memory_format: torch.memory_format = torch.contiguous_format  # what forward() turns its input into

    def use_channels_last(self, channels_last: bool) -> None:
        """Keep the weights, and the images ``forward`` receives, in ``torch.channels_last``
        memory format (each pixel's channels side by side) when ``channels_last`` is true.
        Convolutions are faster so on many CPUs and on GPU tensor cores under mixed precision
        (PyTorch's "Channels Last Memory Format" tutorial); measure it on your machine."""
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.to(memory_format=self.memory_format)

    def get_output_channels(self) -> int:
        """Number of channels of the feature map this encoder outputs."""
        raise NotImplementedError

    def grad_cam_layer(self) -> torch.nn.Module:
        """The layer whose feature maps Grad-CAM weighs (:func:`allencv_lite.interpret.grad_cam.explain`):
        by default the encoder itself, whose output is the last feature map. Encoders that
        pool their output to ``1 × 1`` return their last block instead."""
        return self

    def train(self, mode: bool = True) -> "Im2ImEncoder":
        """Set training (``mode=True``) or evaluation mode, keeping frozen batch norms in evaluation mode."""
        super().train(mode)
        if mode:
            for module in self.modules():
                if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and (self.freeze_batch_norm or (
                        module.affine and not any(p.requires_grad for p in module.parameters(recurse=False)))):
                    module.eval()
        return self


# The built-in implementations, each imported when a config first names it.
Im2ImEncoder.register_lazily("feedforward", "allencv_lite.modules.im2im_encoders.feedforward_encoder")
Im2ImEncoder.register_lazily("pretrained_resnet", "allencv_lite.modules.im2im_encoders.resnet_encoder")
Im2ImEncoder.register_lazily("resnet", "allencv_lite.modules.im2im_encoders.resnet_encoder")
Im2ImEncoder.register_lazily("residual", "allencv_lite.modules.im2im_encoders.residual_encoder")
Im2ImEncoder.register_lazily("timm", "allencv_lite.modules.im2im_encoders.timm_encoder")
