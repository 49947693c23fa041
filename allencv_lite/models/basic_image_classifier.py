"""Image classification: backbone, pooling to a vector, one linear layer."""
import math
from typing import TYPE_CHECKING, Any, Dict, List, Optional

import torch

from allencv_lite.common.checks import ConfigurationError, check_dimensions_match
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE, Vocabulary
from allencv_lite.models.model import Model
from allencv_lite.modules.im2im_encoders.im2im_encoder import Im2ImEncoder
from allencv_lite.modules.im2vec_encoders.im2vec_encoder import Im2VecEncoder

if TYPE_CHECKING:
    import torchmetrics

IMAGE_CHANNELS = 3  # the readers' tensors are RGB: (batch, 3, height, width)


@Model.register("basic_image_classifier")
class BasicImageClassifier(Model):
    """``images -> im2im_encoder -> im2vec_encoder -> dropout -> _classification_layer``.

    Input ``image`` ``(batch, 3, height, width)``; output ``logits`` and ``probs``
    ``(batch, num_labels)``; with ``label`` ``(batch,)`` also the cross-entropy ``loss``
    (a scalar) and running accuracy (``torchmetrics``, imported at the first labelled batch,
    so that prediction never pays for importing it).

    ``probs`` is ``softmax(logits / temperature)``: the buffer ``temperature`` (a 0-dim float
    tensor, 1.0 until :meth:`set_temperature`) is the temperature scaling of Guo et al. 2017,
    "On Calibration of Modern Neural Networks", section 4.2, fitted after training by
    :func:`~allencv_lite.interpret.calibration.fit_temperature`. It is saved with the weights, so
    every predictor, the panel, the demo and an export apply it; the loss, the accuracy and
    ``logits`` stay raw (dividing by T > 0 changes no prediction). Weights saved before the
    buffer existed load with 1.0.

    Args:
        vocab: labels live in its ``"labels"`` namespace.
        im2vec_encoder: turns the feature map into one vector per image.
        im2im_encoder: the backbone; ``None`` feeds the images straight to ``im2vec_encoder``.
        dropout: dropout probability before the classification layer.
        label_smoothing: the training target's weight taken from the true label and spread
            evenly over all labels, in [0, 1): the loss is cross-entropy against
            ``(1 - label_smoothing) · one_hot + label_smoothing / num_labels`` (Szegedy et al.
            2016, "Rethinking the Inception Architecture", section 7; torch's
            ``cross_entropy(label_smoothing=...)``). Accuracy and predictions are unchanged.

    The wiring is checked here, not at the first forward pass: ``im2vec_encoder``'s
    ``input_channels`` must equal ``im2im_encoder.get_output_channels()`` (3, the RGB
    channels, without a backbone); left out of the config, it is taken from there.

    Raises:
        ConfigurationError: the channels differ (the message names both keys, both values and the
            fix), or ``label_smoothing`` is outside [0, 1).
    """

    def __init__(self, vocab: Vocabulary, im2vec_encoder: Im2VecEncoder,
                 im2im_encoder: Optional[Im2ImEncoder] = None, dropout: Optional[float] = None,
                 label_smoothing: float = 0.0) -> None:
        super().__init__(vocab)
        if not 0.0 <= label_smoothing < 1.0:
            raise ConfigurationError(f"label_smoothing: must be in [0, 1), e.g. 0.1, got {label_smoothing}.")
        if im2im_encoder is not None:
            channels, source = im2im_encoder.get_output_channels(), f"im2im_encoder ({type(im2im_encoder).__name__}) outputs"
        else:
            channels, source = IMAGE_CHANNELS, "the images (no im2im_encoder) have"
        im2vec_encoder.take_input_channels(channels)
        check_dimensions_match(im2vec_encoder.get_input_channels(), channels, "im2vec_encoder.input_channels",
                               f"the channels {source}",
                               fix=f'Set "input_channels": {channels}, or leave the key out to take it from there.')
        self._im2im_encoder = im2im_encoder
        self._im2vec_encoder = im2vec_encoder
        self._dropout = torch.nn.Dropout(dropout) if dropout else torch.nn.Identity()
        self._num_labels = vocab.get_vocab_size(DEFAULT_NAMESPACE)
        self._label_smoothing = label_smoothing
        self._classification_layer = torch.nn.Linear(im2vec_encoder.get_output_dim(), self._num_labels)
        self._accuracy: Optional["torchmetrics.Metric"] = None  # see _running_accuracy
        self.register_buffer("temperature", torch.tensor(1.0))

    def set_temperature(self, temperature: float) -> None:
        """Divide the logits by ``temperature`` before the softmax of ``probs`` from now on
        (above 1 softens the probabilities, below 1 sharpens them).

        Raises:
            ValueError: ``temperature`` is not a finite number above 0.
        """
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a finite number above 0, got {temperature}.")
        self.temperature.fill_(temperature)

    def _load_from_state_dict(self, state_dict: Dict[str, Any], prefix: str, *args: Any) -> None:
        """Weights saved before the ``temperature`` buffer existed load with 1.0, the softmax they
        were trained and archived with (torch's hook for old state dicts, as ``BatchNorm`` uses it
        for ``num_batches_tracked``)."""
        state_dict.setdefault(prefix + "temperature", torch.ones((), device=self.temperature.device))
        super()._load_from_state_dict(state_dict, prefix, *args)

    def pooled_features(self, image: torch.Tensor) -> torch.Tensor:
        """What the classification layer reads (before dropout): float ``(batch, 3, height, width)``
        -> ``(batch, im2vec_encoder.get_output_dim())``."""
        return self._im2vec_encoder(self._im2im_encoder(image) if self._im2im_encoder is not None else image)

    def forward(self, image: torch.Tensor, label: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Classify a batch.

        Args:
            image: float ``(batch, 3, height, width)``.
            label: long ``(batch,)`` label indices, optional.

        Returns:
            ``logits`` and ``probs`` ``(batch, num_labels)`` (``probs`` is
            ``softmax(logits / temperature)``); ``loss`` (scalar, from the raw logits, with the
            label smoothing) if ``label``.
        """
        logits = self._classification_layer(self._dropout(self.pooled_features(image)))
        output = {"logits": logits, "probs": torch.softmax(logits / self.temperature, dim=-1)}
        if label is not None:
            output["loss"] = torch.nn.functional.cross_entropy(logits, label, label_smoothing=self._label_smoothing)
            self._running_accuracy(logits.device).update(logits.detach(), label)
        return output

    def _running_accuracy(self, device: torch.device) -> "torchmetrics.Metric":
        """The accuracy metric, built on ``device`` at the first labelled batch. It computes over
        this process's batches only (``sync_on_compute=False``): the trainer averages training
        metrics over processes itself, and only process 0 validates."""
        if self._accuracy is None:
            import torchmetrics  # about 1 s, with torchvision: only training and evaluation need it

            self._accuracy = torchmetrics.classification.MulticlassAccuracy(
                self._num_labels, average="micro", sync_on_compute=False).to(device)
        return self._accuracy

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        """``{"accuracy": fraction correct since the last reset}`` (0.0 before any batch)."""
        if self._accuracy is None or not self._accuracy.update_count:
            return {"accuracy": 0.0}
        accuracy = float(self._accuracy.compute())
        if reset:
            self._accuracy.reset()
        return {"accuracy": accuracy}

    def make_output_human_readable(self, output_dict: Dict[str, Any]) -> Dict[str, Any]:
        """Adds ``label`` (predicted label strings) for each image in the batch."""
        indices: List[int] = output_dict["probs"].argmax(dim=-1).tolist()
        output_dict["label"] = [self.vocab.get_token_from_index(i, DEFAULT_NAMESPACE) for i in indices]
        return output_dict
