"""How good is a trained classifier, and where does it go wrong?

:class:`ClassificationInterpretation` runs a model over a labelled dataset once and keeps
its logits, so that the usual questions are one call away, as with fastai's
``ClassificationInterpretation``::

    interp = ClassificationInterpretation.from_archive(load_archive("model.tar.gz"), "data/val")
    interp.metrics()                # accuracy, per-class precision/recall/F1, confusion matrix
    interp.plot_confusion_matrix()  # a matplotlib Figure
    interp.plot_top_losses(9)       # the 9 images the model got most wrong
    interp.plot_top_losses(9, heatmap=True)  # ... with where the model looked (Grad-CAM)

The metrics are torchmetrics' functional multiclass metrics; ``allencv-lite evaluate``
prints them with :func:`format_metrics_table`.
"""
import os
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
)

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.progress import progress_bar
from allencv_lite.data.dataset import ImageDataset
from allencv_lite.data.augmentation_pipeline import AugmentationPipeline
from allencv_lite.data.dataset_readers.dataset_reader import ImageDatasetReader
from allencv_lite.data.image_loading import read_image
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE
from allencv_lite.models.archival import Archive
from allencv_lite.models.model import Model
from allencv_lite.predictors.test_time_augmentation import average_probabilities, check_tta

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TICK_LABEL_WIDTH = 10  # characters per line of a confusion matrix's label ("Russian Blue" -> two lines)
CHARACTER_WIDTH = 0.09  # inches, a generous average for matplotlib's default 10-point font

@dataclass
class ClassificationInterpretation:
    """A model's outputs on a labelled dataset, with the metrics and plots derived from them.

    Build it with :meth:`from_archive` or :meth:`from_model`, or directly from known logits.

    Attributes:
        labels: label names, in vocabulary (index) order; ``C`` of them.
        paths: the image file of each of the ``N`` evaluated samples.
        logits: float ``(N, C)``, the model's scores before softmax.
        targets: long ``(N,)``, the index of each sample's actual label.
        skipped: images left out because they could not be decoded.
        model, dataset_reader: the model and what prepared its images, a reader or the dataset's
            ``AugmentationPipeline`` (either has ``load_image`` and ``image_to_tensor``; set by
            :meth:`from_model` and :meth:`from_archive`), for the heatmaps of
            :meth:`plot_top_losses`.
    """

    labels: List[str]
    paths: List[str]
    logits: torch.Tensor
    targets: torch.Tensor
    skipped: int = 0
    model: Optional[Model] = field(default=None, repr=False, compare=False)
    dataset_reader: Optional[Union[ImageDatasetReader, AugmentationPipeline]] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.logits.ndim != 2 or self.logits.shape[1] != len(self.labels):
            raise ValueError(f"logits must be (N, {len(self.labels)}), got {tuple(self.logits.shape)}.")
        if self.targets.shape != (self.logits.shape[0],) or len(self.paths) != self.logits.shape[0]:
            raise ValueError(f"{self.logits.shape[0]} logits need as many targets and paths, got "
                             f"{tuple(self.targets.shape)} targets and {len(self.paths)} paths.")

    @classmethod
    def from_model(cls, model: Model, dataset: ImageDataset, batch_size: int = 32,
                   progress: bool = True, tta: Optional[Sequence[str]] = None) -> "ClassificationInterpretation":
        """Run ``model`` (in eval mode, without gradients) over every sample of ``dataset``.

        Args:
            model: a classifier whose ``forward(image)`` returns ``logits`` ``(batch, C)``.
            dataset: labelled samples, indexed with the model's vocabulary
                (``dataset.index_with(model.vocab)``).
            batch_size: images per forward pass.
            progress: show a tqdm progress bar.
            tta: test-time augmentation views (e.g. ``["flip"]``, see
                :mod:`~allencv_lite.predictors.test_time_augmentation`); the logits kept are then
                the log of the averaged probabilities (whose softmax is that average).

        Raises:
            ConfigurationError: the dataset is empty, has unlabelled samples, or no readable
                image; an unknown ``tta`` view.
        """
        tta = check_tta(tta)
        if not len(dataset):
            raise ConfigurationError("Nothing to evaluate: the dataset is empty.")
        if any(label is None for label in dataset.labels):
            raise ConfigurationError("Evaluation needs labelled samples (<root>/<label>/<image>); "
                                     "some samples have no label.")
        if dataset.vocab is None:
            dataset.index_with(model.vocab)
        indices, logits = dataset_logits(model, dataset, batch_size=batch_size, progress=progress, tta=tta)
        vocab = model.vocab
        labels = [vocab.get_token_from_index(i, DEFAULT_NAMESPACE) for i in range(vocab.get_vocab_size(DEFAULT_NAMESPACE))]
        targets = torch.tensor([vocab.get_token_index(dataset.samples[i][1], DEFAULT_NAMESPACE) for i in indices],
                               dtype=torch.long)
        return cls(labels=labels, paths=[dataset.samples[i][0] for i in indices], logits=logits, targets=targets,
                   skipped=sum(dataset.skipped.values()), model=model, dataset_reader=dataset.pipeline)

    @classmethod
    def from_archive(cls, archive: Archive, data_path: Union[str, os.PathLike], batch_size: int = 32,
                     progress: bool = True, tta: Optional[Sequence[str]] = None) -> "ClassificationInterpretation":
        """Evaluate an archived model on ``data_path`` (``<root>/<label>/<image>``), preparing
        images with the archive's validation reader (and ``tta``, as :meth:`from_model`).

        Raises:
            ConfigurationError: the folder is missing or empty, or holds a label the model
                was not trained on.
        """
        dataset = archive.dataset_reader.read(data_path)
        dataset.index_with(archive.vocab)
        return cls.from_model(archive.model, dataset, batch_size=batch_size, progress=progress, tta=tta)

    @property
    def probabilities(self) -> torch.Tensor:
        """Softmax of the logits, ``(N, C)``."""
        return torch.softmax(self.logits, dim=-1)

    @property
    def predictions(self) -> torch.Tensor:
        """Index of the most probable label per sample, ``(N,)``."""
        return self.logits.argmax(dim=-1)

    @property
    def losses(self) -> torch.Tensor:
        """Cross-entropy per sample, ``-log p(actual label)`` in nats, ``(N,)``."""
        return torch.nn.functional.cross_entropy(self.logits, self.targets, reduction="none")

    def confusion_matrix(self) -> torch.Tensor:
        """Counts ``(C, C)``: row = actual label, column = predicted label (torchmetrics' convention)."""
        return multiclass_confusion_matrix(self.logits, self.targets, num_classes=len(self.labels))

    def metrics(self) -> Dict[str, Any]:
        """Accuracy, per-class precision/recall/F1, their macro averages and the confusion matrix.

        Precision of a label is the fraction of images predicted as it that are it; recall
        the fraction of its images predicted as it; F1 their harmonic mean (a label never
        predicted gets precision 0, torchmetrics' ``zero_division`` default). Macro averages
        are torchmetrics' ``average="macro"``.

        Returns:
            A JSON-serialisable dict: ``accuracy``, ``loss`` (mean cross-entropy),
            ``num_images``, ``num_skipped``, ``labels``, ``per_class`` (``{label:
            {"precision", "recall", "f1", "support"}}``), ``macro_avg`` and
            ``confusion_matrix`` (list of rows, row = actual label).
        """
        num_classes = len(self.labels)
        args = (self.logits, self.targets)
        per_class = {name: function(*args, num_classes=num_classes, average="none").tolist()
                     for name, function in (("precision", multiclass_precision), ("recall", multiclass_recall),
                                            ("f1", multiclass_f1_score))}
        macro = {name: float(function(*args, num_classes=num_classes, average="macro"))
                 for name, function in (("precision", multiclass_precision), ("recall", multiclass_recall),
                                        ("f1", multiclass_f1_score))}
        support = torch.bincount(self.targets, minlength=num_classes).tolist()
        return {
            "accuracy": float(multiclass_accuracy(*args, num_classes=num_classes, average="micro")),
            "loss": float(self.losses.mean()),
            "num_images": len(self.paths),
            "num_skipped": self.skipped,
            "labels": list(self.labels),
            "per_class": {label: {"precision": per_class["precision"][i], "recall": per_class["recall"][i],
                                  "f1": per_class["f1"][i], "support": support[i]}
                          for i, label in enumerate(self.labels)},
            "macro_avg": macro,
            "confusion_matrix": self.confusion_matrix().tolist(),
        }

    def top_losses(self, k: int = 9) -> List[Dict[str, Any]]:
        """The ``k`` samples with the highest loss (the model's worst mistakes), worst first.

        Each is ``{"path", "actual", "predicted", "probability"`` (of the predicted label),
        ``"actual_probability", "loss"}``.
        """
        losses = self.losses
        probabilities = self.probabilities
        order = torch.argsort(losses, descending=True, stable=True)[:k].tolist()
        predictions = self.predictions
        return [{"path": self.paths[i], "actual": self.labels[int(self.targets[i])],
                 "predicted": self.labels[int(predictions[i])],
                 "probability": float(probabilities[i, predictions[i]]),
                 "actual_probability": float(probabilities[i, self.targets[i]]), "loss": float(losses[i])}
                for i in order]

    def plot_confusion_matrix(self, normalize: bool = False,
                              figsize: Optional[Tuple[float, float]] = None) -> "Figure":
        """The confusion matrix as a heat map, each cell annotated.

        Args:
            normalize: divide each row by its total, so cells show the fraction of each
                actual label (the diagonal is then per-class recall).
            figsize: inches; default grows with the number of labels.

        Long label names wrap onto lines of at most 10 characters, and the default size gives each
        column room for its label, so no two tick labels overlap.

        Returns:
            the matplotlib ``Figure``, left open: a notebook shows it once at the end of the cell
            (write ``figure = interpretation.plot_confusion_matrix()`` so that it is not also shown
            as the cell's value), and ``figure.savefig("cm.png")`` or ``pyplot.savefig`` saves it.
        """
        import matplotlib.pyplot as plt

        matrix = self.confusion_matrix().double()
        if normalize:
            matrix = matrix / matrix.sum(dim=1, keepdim=True).clamp(min=1)
        names = [textwrap.fill(label, width=TICK_LABEL_WIDTH) for label in self.labels]
        longest_line = max(len(line) for name in names for line in name.splitlines())
        cell = max(0.6, CHARACTER_WIDTH * longest_line + 0.2)  # inches: a column fits its wrapped label
        size = max(4.0, cell * len(self.labels) + 2 + CHARACTER_WIDTH * longest_line)
        figure, ax = plt.subplots(figsize=figsize or (size, size))
        ax.imshow(matrix.numpy(), cmap="Blues")
        ticks = range(len(self.labels))
        ax.set_xticks(ticks, names)
        ax.set_yticks(ticks, names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        ax.set_title("Confusion matrix" + (" (fraction of each actual label)" if normalize else ""))
        threshold = matrix.max().item() / 2
        for row in ticks:
            for column in ticks:
                value = matrix[row, column].item()
                ax.text(column, row, f"{value:.2f}" if normalize else f"{int(value)}", ha="center", va="center",
                        color="white" if value > threshold else "black")
        figure.tight_layout()
        return figure

    def plot_top_losses(self, k: int = 9, ncols: int = 3, figsize: Optional[Tuple[float, float]] = None,
                        heatmap: bool = False) -> "Figure":
        """A grid of the ``k`` images with the highest loss, as decoded from disk, each titled
        with the predicted label and its probability, the actual label, and the loss.

        Args:
            heatmap: draw over each image its Grad-CAM heatmap for the *predicted* label
                (:func:`allencv_lite.interpret.grad_cam.explain`; red where the evidence for the mistake
                lies), as fastai's ``plot_top_losses(heatmap=True)`` does.

        Returns:
            the matplotlib ``Figure``, left open (see :meth:`plot_confusion_matrix`).

        Raises:
            ConfigurationError: ``heatmap`` without the model (build the interpretation with
                :meth:`from_archive` or :meth:`from_model`).
        """
        import matplotlib.pyplot as plt

        if heatmap and (self.model is None or self.dataset_reader is None):
            raise ConfigurationError("plot_top_losses(heatmap=True) needs the model: build the interpretation with "
                                     "ClassificationInterpretation.from_archive(...) or from_model(...).")
        if heatmap:
            from allencv_lite.interpret.grad_cam import explain_file  # grad-cam and OpenCV load only when asked for
        worst = self.top_losses(k)
        nrows = max(1, -(-len(worst) // ncols))
        figure, axes = plt.subplots(nrows, ncols, figsize=figsize or (3.0 * ncols, 3.3 * nrows), squeeze=False)
        for ax in axes.flat:
            ax.axis("off")
        for ax, sample in zip(axes.flat, worst):
            ax.imshow(explain_file(self.model, self.dataset_reader, sample["path"],
                                   label=self.labels.index(sample["predicted"])) if heatmap
                      else read_image(sample["path"]))
            ax.set_title(f"predicted {sample['predicted']} ({sample['probability']:.2f})\n"
                         f"actual {sample['actual']}, loss {sample['loss']:.2f}", fontsize=9)
        figure.suptitle("Top losses: predicted (probability) / actual / loss")
        figure.tight_layout()
        return figure


def dataset_logits(model: Model, dataset: ImageDataset, batch_size: int = 32, progress: bool = True,
                   tta: Sequence[str] = ()) -> Tuple[List[int], torch.Tensor]:
    """Run ``model`` (in eval mode, without gradients) over every readable sample of ``dataset``,
    labelled or not; with ``tta`` views, the logits are the log of the probabilities averaged
    over the image and its views (see :func:`~allencv_lite.predictors.test_time_augmentation.average_probabilities`).

    Returns:
        the indices into ``dataset.samples`` of the samples that could be decoded (an
        unreadable one is recorded in ``dataset.skipped``), and their logits, float
        ``(len(indices), num_labels)`` on the CPU.

    Raises:
        ConfigurationError: none of the images could be decoded.
    """
    device = next(model.parameters()).device
    model.eval()
    indices: List[int] = []
    logits: List[torch.Tensor] = []
    starts = range(0, len(dataset), batch_size)
    for start in progress_bar(starts, "evaluating", unit="batch", disable=not progress):
        instances = [(i, dataset[i]) for i in range(start, min(start + batch_size, len(dataset)))]
        # an image that cannot be decoded is not a dict (the dataset records it in ``skipped``)
        readable = [(i, instance) for i, instance in instances if isinstance(instance, dict)]
        if not readable:
            continue
        images = torch.stack([instance["image"] for _, instance in readable]).to(device)
        if tta:
            logits.append(average_probabilities(model, images, tta).log().cpu())
        else:
            with torch.inference_mode():
                logits.append(model(image=images)["logits"].float().cpu())
        indices.extend(i for i, _ in readable)
    if not indices:
        raise ConfigurationError("Nothing to evaluate: none of the images could be decoded.")
    return indices, torch.cat(logits)


def format_metrics_table(metrics: Dict[str, Any]) -> str:
    """:meth:`ClassificationInterpretation.metrics` as a plain-text report: a per-class
    precision/recall/F1/support table, the macro average, accuracy, and the confusion matrix
    (rows = actual label, columns = predicted label)."""
    labels = metrics["labels"]
    width = max([len("macro avg")] + [len(label) for label in labels])
    lines = [f"{'label':<{width}}  precision  recall     f1  support"]
    for label in labels:
        row = metrics["per_class"][label]
        lines.append(f"{label:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  {row['f1']:5.3f}  "
                     f"{row['support']:7d}")
    macro = metrics["macro_avg"]
    lines.append(f"{'macro avg':<{width}}  {macro['precision']:9.3f}  {macro['recall']:6.3f}  {macro['f1']:5.3f}  "
                 f"{metrics['num_images']:7d}")
    lines.append("")
    lines.append(f"accuracy {metrics['accuracy']:.4f} on {metrics['num_images']} images "
                 f"(mean loss {metrics['loss']:.4f}"
                 + (f", {metrics['num_skipped']} unreadable images skipped)" if metrics["num_skipped"] else ")"))
    lines.append("")
    lines.append("confusion matrix (rows: actual, columns: predicted)")
    cell = max([len(label) for label in labels] + [len(str(n)) for row in metrics["confusion_matrix"] for n in row])
    lines.append(" " * width + "".join(f"  {label:>{cell}}" for label in labels))
    for label, row in zip(labels, metrics["confusion_matrix"]):
        lines.append(f"{label:<{width}}" + "".join(f"  {n:>{cell}}" for n in row))
    return "\n".join(lines)
