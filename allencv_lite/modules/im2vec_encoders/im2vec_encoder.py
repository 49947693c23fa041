"""The contract every image-to-vector encoder honours."""
from typing import Optional

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable


class Im2VecEncoder(torch.nn.Module, Registrable, FromParams):
    """Maps feature maps ``(batch, get_input_channels(), height, width)`` to vectors
    ``(batch, get_output_dim())``.

    ``input_channels`` may be left out of the config (``None``): the classifier then sets it
    from its backbone's ``get_output_channels()`` (:meth:`take_input_channels`), as fastai
    derives a head from its body, so configs do not repeat numbers such as 1280 by hand.
    """

    input_channels: Optional[int] = None

    def get_input_channels(self) -> Optional[int]:
        """Channels of the feature maps this encoder accepts; ``None`` until known."""
        return self.input_channels

    def take_input_channels(self, channels: int) -> None:
        """Accept ``channels`` as ``input_channels`` when the config left it out (else keep it,
        for the classifier's check to compare)."""
        if self.input_channels is None:
            self.input_channels = channels

    def get_output_dim(self) -> int:
        """Size of the output vectors.

        Raises:
            ConfigurationError: ``input_channels`` is still unknown (see :meth:`known_input_channels`).
        """
        raise NotImplementedError

    def known_input_channels(self) -> int:
        """``input_channels``, once given or taken from the backbone.

        Raises:
            ConfigurationError: it was left out and no classifier has set it yet.
        """
        if self.input_channels is None:
            raise ConfigurationError(f"{type(self).__name__}: input_channels is unknown; set it, or give this "
                                     "encoder to a BasicImageClassifier, which takes it from its im2im_encoder.")
        return self.input_channels

    def check_feature_map(self, feature_map: torch.Tensor) -> None:
        """Raise ``ConfigurationError`` unless ``feature_map`` is 4-D ``(batch, channels, height, width)``."""
        if feature_map.dim() != 4:
            raise ConfigurationError(
                f"{type(self).__name__} expects feature maps (batch, channels, height, width) but got shape "
                f"{tuple(feature_map.shape)}; give the classifier an im2im_encoder that outputs feature maps (the "
                "timm encoder turns a vision transformer's tokens into one).")


# The built-in implementations, each imported when a config first names it.
Im2VecEncoder.register_lazily("flatten", "allencv_lite.modules.im2vec_encoders.flatten_encoder")
Im2VecEncoder.register_lazily("global_average", "allencv_lite.modules.im2vec_encoders.global_average_encoder")
