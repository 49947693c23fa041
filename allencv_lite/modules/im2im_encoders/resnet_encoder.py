"""ResNet backbones from torchvision (He et al. 2016, "Deep Residual Learning")."""
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
        pretrained: start from torchvision's ImageNet weights (``IMAGENET1K_V1``), read
            from the torch hub cache (``$TORCH_HOME/hub/checkpoints``) or downloaded there.
        requires_grad: train the backbone's weights (false freezes them).

    Raises:
        ConfigurationError: unknown ``resnet_model``, or pretrained weights neither cached
            nor downloadable.
    """

    def __init__(self, resnet_model: str = "resnet50", pretrained: bool = True, requires_grad: bool = True) -> None:
        super().__init__()
        if resnet_model not in RESNET_MODELS:
            raise ConfigurationError(f"resnet_model '{resnet_model}' is not one of {list(RESNET_MODELS)}.")
        weights = "IMAGENET1K_V1" if pretrained else None
        try:
            resnet = getattr(torchvision.models, resnet_model)(weights=weights)
        except (OSError, RuntimeError) as error:  # urllib's URLError is an OSError
            raise ConfigurationError(
                f"Could not load ImageNet weights for {resnet_model}: {error}. Without internet, put "
                f"torchvision's weight file in {torch.hub.get_dir()}/checkpoints, or set "
                "\"pretrained\": false to train from scratch."
            ) from None
        self.model = torch.nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool,
                                         resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self._output_channels = resnet.fc.in_features
        for parameter in self.model.parameters():
            parameter.requires_grad_(requires_grad)

    def get_output_channels(self) -> int:
        return self._output_channels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(batch, 3, height, width)`` -> ``(batch, C, 1, 1)``."""
        return self.pool(self.model(images))
