"""ResNet backbones from torchvision (He et al. 2016, "Deep Residual Learning")."""
import pickle
from pathlib import Path

import torch
import torchvision

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.modules.im2im_encoders.im2im_encoder import Im2ImEncoder

RESNET_MODELS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")


@Im2ImEncoder.register("pretrained_resnet")
@Im2ImEncoder.register("resnet")
class ResnetEncoder(Im2ImEncoder):
    """A torchvision ResNet without its classifier, globally average-pooled.

    ``self.model`` is an ``nn.Sequential`` whose children are numbered as in AllenCV, so
    parameter-group regexes can name them: ``model.0`` stem conv, ``model.1`` bn,
    ``model.2`` relu, ``model.3`` maxpool, ``model.4`` … ``model.7`` layer1 … layer4.

    Input ``(batch, 3, height, width)``, normalized with ImageNet statistics; output
    ``(batch, C, 1, 1)`` with C = 512 (resnet18/34) or 2048 (resnet50/101/152).

    Args:
        resnet_model: one of ``resnet18`` … ``resnet152``.
        pretrained: start from torchvision's ImageNet weights (``IMAGENET1K_V1``) through
            torchvision's weights API: read from the torch hub cache
            (``$TORCH_HOME/hub/checkpoints/<file>``, e.g. ``resnet50-0676ba61.pth``) or
            downloaded there. A file already in the cache is used as it is: torchvision checks
            the hash in its name only when it downloads.
        requires_grad: train the backbone's weights (false freezes them; BatchNorm running
            statistics still adapt in training mode).
        channels_last: keep weights and inputs in ``torch.channels_last`` memory format
            (see :meth:`Im2ImEncoder.use_channels_last`), for tensor cores under mixed precision.

    Raises:
        ConfigurationError: unknown ``resnet_model``; pretrained weights neither cached nor
            downloadable (the message gives the URL and the exact path to put the file at);
            a cached file that cannot be loaded.
    """

    def __init__(self, resnet_model: str = "resnet50", pretrained: bool = True, requires_grad: bool = True,
                 channels_last: bool = False) -> None:
        super().__init__()
        if resnet_model not in RESNET_MODELS:
            raise ConfigurationError(f"resnet_model '{resnet_model}' is not one of {list(RESNET_MODELS)}.")
        weights = torchvision.models.get_model_weights(resnet_model).IMAGENET1K_V1 if pretrained else None
        try:
            resnet = getattr(torchvision.models, resnet_model)(weights=weights)
        # No network (urllib's URLError is an OSError); a truncated, foreign or non-fitting cached file:
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
            raise ConfigurationError(_weights_error(resnet_model, weights.url, error)) from None
        self.model = torch.nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool,
                                         resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self._output_channels = resnet.fc.in_features
        for parameter in self.model.parameters():
            parameter.requires_grad_(requires_grad)
        self.use_channels_last(channels_last)

    def get_output_channels(self) -> int:
        return self._output_channels

    def grad_cam_layer(self) -> torch.nn.Module:
        """The last residual block of ``layer4`` (output ``(batch, C, height / 32, width / 32)``),
        the layer Selvaraju et al. explain for ResNets."""
        return self.model[-1][-1]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(batch, 3, height, width)`` -> ``(batch, C, 1, 1)``."""
        return self.pool(self.model(images.contiguous(memory_format=self.memory_format)))


def _weights_error(resnet_model: str, url: str, error: Exception) -> str:
    """What went wrong loading torchvision's ImageNet weights, and where the file must go."""
    cached_file = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    if cached_file.exists():
        return (f"Could not load the ImageNet weights for {resnet_model} from {cached_file} ({error}); delete it, or "
                f"replace it with a copy of {url}.")
    return (f"ImageNet weights for {resnet_model} are not in the torch hub cache and could not be downloaded "
            f"({error}). Without internet, download {url} elsewhere and put it at {cached_file} (the cache is "
            "$TORCH_HOME/hub/checkpoints), or set \"pretrained\": false to train from scratch.")
