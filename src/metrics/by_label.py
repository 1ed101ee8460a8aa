"""Class-conditional samples against labelled reference clips.

Two questions per requested label: does each clip land in the class it was asked for (a k-NN
classifier fitted on the reference clips, in the scale's onset-aligned log-mel features), and how
good is the class on the floor scale (its clips against the reference clips of that class alone)?
The classifier's own accuracy on held-out reference clips is reported beside it, since it caps
what adherence can be measured."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from src.metrics.aligned import aligned_logmel
from src.metrics.manifold import as_points, nearest_classes
from src.metrics.scale import FloorScale, balanced_halves

NEIGHBOURS = 5  # the k of the k-NN classifier that puts clips in classes


def classifier_accuracy(reference: np.ndarray, labels: Sequence[str], splits: int = 5, k: int = NEIGHBOURS,
                        seed: int = 0) -> float:
    """The k-NN classifier's accuracy on held-out reference clips: fitted on one class-balanced half,
    tested on the other, both ways, averaged over `splits` random halvings."""
    labels = list(labels)
    scores = []
    for split in range(splits):
        first, second = balanced_halves(labels, (seed, split))
        for fit, test in ((first, second), (second, first)):
            predicted = nearest_classes(reference[test], reference[fit], [labels[i] for i in fit], k)
            scores.append(np.mean([p == labels[i] for p, i in zip(predicted, test)]))
    return float(np.mean(scores))


def _class_scale(generated: np.ndarray, reference: np.ndarray, splits: int, k: int, seed: int) -> dict | None:
    """One class's generated clips on the floor scale of that class's reference clips (None when
    either side is too small to score)."""
    if len(reference) < 4 or len(generated) < 2:
        return None
    scale = FloorScale(reference, ["class"] * len(reference), splits, k, seed)
    report = scale.score(generated).to_dict()
    report.pop("class_counts", None)
    return report


def label_report(generated_audio: torch.Tensor, requested: Sequence[str], reference_audio: torch.Tensor,
                 reference_labels: Sequence[str], sample_rate: int, splits: int = 5, k: int = NEIGHBOURS,
                 seed: int = 0) -> dict[str, object]:
    """Per requested label: clips, the share the classifier puts in that class, and the class's floor
    scale; overall: the share of clips in their class and the classifier's held-out accuracy."""
    requested = [str(label) for label in requested]
    if len(requested) != len(generated_audio):
        raise ValueError(f"{len(requested)} requested labels for {len(generated_audio)} generated clips")
    reference = as_points(aligned_logmel(reference_audio, sample_rate), "reference")
    generated = as_points(aligned_logmel(generated_audio, sample_rate), "generated")
    reference_labels = [str(label) for label in reference_labels]
    predicted = nearest_classes(generated, reference, reference_labels, k)
    per_label = {}
    for label in sorted(set(requested)):
        mine = [i for i, wanted in enumerate(requested) if wanted == label]
        theirs = [i for i, known in enumerate(reference_labels) if known == label]
        per_label[label] = {
            "n": len(mine),
            "in_class": float(np.mean([predicted[i] == label for i in mine])),
            "landed": {name: sum(predicted[i] == name for i in mine) for name in sorted(set(reference_labels))},
            "scale": _class_scale(generated[mine], reference[theirs], splits, k, seed),
        }
    return {
        "in_class": float(np.mean([p == wanted for p, wanted in zip(predicted, requested)])),
        "classifier_accuracy": classifier_accuracy(reference, reference_labels, splits, k, seed),
        "per_label": per_label,
    }
