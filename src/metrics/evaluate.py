"""Score a folder of generated audio against a reference folder or a synthetic reference kit.

    python -m src.metrics.evaluate generated=<folder> reference=<folder>|kit [sample_rate=16000]
        [length=<samples>] [bootstrap=200] [seed=0] [embeddings=[logmel,mfcc,crepe]]
        [crepe_model=tiny] [memorization=true] [training=<folder>] [scale=true] [splits=5] [k=5]
        [reference_seed=777] [device=cpu] [out=<report.json>]

Files (wav/flac/ogg/mp3, recursive) are resampled to `sample_rate`, mixed to mono and cropped or
zero-padded to `length` samples (default: the longest clip in either folder). Unreadable files are
skipped with a warning. `reference=kit` scores against a fresh synthetic drum kit (src/data/synth.py,
seed `reference_seed`; the demo trains on seed 0) with each of its halves as large as the generated set;
a folder literally named kit is `reference=./kit`. A reference folder's first-level subfolders are its
classes (files at its top are "unlabeled").

The report holds:
- scale: the floor-relative scale (src/metrics/scale.py) on onset-aligned log-mel features: the
  Fréchet distance as a ratio to real-vs-real (~1 is as good as real data), density and coverage with
  their real-data floors, 95% bootstrap intervals, and how many generated clips fall nearest each class;
- metrics: for each feature set the raw Fréchet and kernel distances (src/metrics/distances.py) with
  bootstrap intervals; lower is better, compare only at equal set sizes;
- memorization: nearest-neighbour distances of the generated clips to the `training` folder's clips
  (the reference's when no training folder is given; src/metrics/memorization.py);
- by_label, when the generated clips were asked for labels (the `labels` of generate.py's
  manifest.json in the generated folder, else the generated folder's subfolders) and the reference
  is labelled: per label, the share of clips a k-NN classifier on the reference puts in the requested
  class, the classes they land in, and the class's own floor scale; with the classifier's accuracy
  on held-out reference clips (src/metrics/by_label.py)."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from rich.console import Console

from src.metrics.audio_sets import KIT, UNLABELED, AudioSet, kit_reference, load_folder
from src.metrics.by_label import label_report
from src.metrics.console import write_table
from src.metrics.distances import frechet_estimate, kernel_estimate
from src.metrics.features import CREPE_MODELS, FEATURE_NAMES, extract_features
from src.metrics.memorization import memorization_check
from src.metrics.scale import score_against_floor
from src.utils.cli import HelpRequested, parse_cli

log = logging.getLogger(__name__)


@dataclass
class EvaluateConfig:
    generated: str = MISSING
    reference: str = MISSING  # a folder, or "kit": a fresh synthetic kit (reference_seed)
    reference_seed: int = 777  # seed of reference=kit; the demo data set is seed 0
    training: str | None = None  # folder the memorisation check compares with; None: the reference
    sample_rate: int = 16000
    length: int | None = None  # samples; None: the longest clip in either folder
    bootstrap: int = 200  # resampling rounds; 0 skips the intervals
    seed: int = 0
    embeddings: list[str] = field(default_factory=lambda: list(FEATURE_NAMES))
    crepe_model: str = "tiny"  # "full" (2048-d) is 10-30x slower on CPU: use it on a GPU (device=cuda)
    memorization: bool = True
    scale: bool = True  # the floor-relative scale (needs at least 4 reference clips)
    splits: int = 5  # random class-balanced reference half splits the scale averages over
    k: int = 5  # neighbours for density and coverage (lowered when the reference halves are smaller)
    device: str = "cpu"
    out: str | None = None


def parse_config(argv: list[str]) -> EvaluateConfig:
    """key=value arguments merged onto the defaults; unknown keys, bad types and bad values raise ValueError."""
    merged = parse_cli(EvaluateConfig, argv)
    try:
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ValueError(f"bad argument: {err}") from err
    assert isinstance(cfg, EvaluateConfig)  # to_object of a structured config returns the dataclass
    for key, value, smallest in (("sample_rate", cfg.sample_rate, 1), ("length", cfg.length or 1, 1),
                                 ("bootstrap", cfg.bootstrap, 0), ("splits", cfg.splits, 1), ("k", cfg.k, 1)):
        if value < smallest:
            raise ValueError(f"{key} must be at least {smallest}, got {value}")
    unknown = sorted(set(cfg.embeddings) - set(FEATURE_NAMES))
    if unknown or not cfg.embeddings:
        raise ValueError(f"embeddings must be a non-empty subset of {list(FEATURE_NAMES)}, got {cfg.embeddings}")
    if cfg.crepe_model not in CREPE_MODELS:
        raise ValueError(f"crepe_model must be one of {CREPE_MODELS}, got {cfg.crepe_model!r}")
    try:
        torch.device(cfg.device)
    except RuntimeError as err:
        raise ValueError(f"device: {err}") from err
    return cfg


def _score_features(generated: torch.Tensor, reference: torch.Tensor,
                    cfg: EvaluateConfig) -> dict[str, object]:
    frechet = frechet_estimate(generated, reference, cfg.bootstrap, cfg.seed)
    kernel, bandwidth = kernel_estimate(generated, reference, cfg.bootstrap, cfg.seed)
    return {"dim": generated.shape[1], "frechet": frechet.to_dict(),
            "kernel": {**kernel.to_dict(), "bandwidth": bandwidth}}


def load_sets(cfg: EvaluateConfig) -> tuple[AudioSet, AudioSet, AudioSet | None, int]:
    """The generated, reference and (optional) training sets, and the clip length they are fitted to."""
    generated = load_folder(cfg.generated, cfg.sample_rate, "generated")
    training = load_folder(cfg.training, cfg.sample_rate, "training") if cfg.training else None
    if cfg.reference == KIT:
        length = cfg.length or max(clip.shape[-1] for clip in generated.clips)
        reference = kit_reference(len(generated.clips), cfg.sample_rate, length, cfg.reference_seed)
    else:
        reference = load_folder(cfg.reference, cfg.sample_rate, "reference")
        length = cfg.length or max(clip.shape[-1] for clip in generated.clips + reference.clips)
    return generated, reference, training, length


def _embedding_metrics(gen_audio: torch.Tensor, ref_audio: torch.Tensor, cfg: EvaluateConfig) -> dict[str, object]:
    metrics = {}
    for name in cfg.embeddings:
        start = time.perf_counter()
        gen_feats = extract_features(gen_audio, cfg.sample_rate, [name], cfg.crepe_model)[name]
        ref_feats = extract_features(ref_audio, cfg.sample_rate, [name], cfg.crepe_model)[name]
        metrics[name] = _score_features(gen_feats, ref_feats, cfg)
        log.info("%s done in %.1f s", name, time.perf_counter() - start)
    return metrics


def _memorization(gen_audio: torch.Tensor, generated: AudioSet, against: AudioSet, role: str, length: int,
                  cfg: EvaluateConfig) -> dict[str, object]:
    memo = memorization_check(gen_audio, against.stacked(length).to(cfg.device), cfg.sample_rate)
    return {"against": role, **memo.to_dict(generated.names, against.names)}


def evaluate(cfg: EvaluateConfig) -> dict[str, object]:
    """The full report as a JSON-ready dict."""
    generated, reference, training, length = load_sets(cfg)
    gen_audio, ref_audio = generated.stacked(length).to(cfg.device), reference.stacked(length).to(cfg.device)
    log.info("scoring %d generated vs %d reference clips of %d samples at %d Hz",
             len(gen_audio), len(ref_audio), length, cfg.sample_rate)
    report: dict[str, object] = {
        "config": asdict(cfg), "sample_rate": cfg.sample_rate, "length": length,
        "generated": generated.summary(), "reference": reference.summary(),
    }
    if training is not None:
        report["training"] = training.summary()
    if cfg.scale and len(ref_audio) < 4:
        log.warning("no floor scale: it splits the reference into halves of at least 2 clips, and the "
                    "reference has %d", len(ref_audio))
    elif cfg.scale:
        scale = score_against_floor(gen_audio, ref_audio, reference.labels, cfg.sample_rate, cfg.splits, cfg.k,
                                    cfg.bootstrap, cfg.seed)
        report["scale"] = scale.to_dict()
    report["metrics"] = _embedding_metrics(gen_audio, ref_audio, cfg)
    if cfg.memorization:
        against, role = (reference, "reference") if training is None else (training, "training")
        report["memorization"] = _memorization(gen_audio, generated, against, role, length, cfg)
    requested = requested_labels(Path(cfg.generated), generated)
    if requested is not None and len(set(reference.labels) - {UNLABELED}) > 1:
        report["by_label"] = label_report(gen_audio.cpu(), requested, ref_audio.cpu(), reference.labels,
                                          cfg.sample_rate, cfg.splits, cfg.k, cfg.seed)
    return report


def requested_labels(folder: Path, generated: AudioSet) -> list[str] | None:
    """The label each generated clip was asked for: from generate.py's manifest.json in the folder,
    else the clips' subfolders; None when the clips carry no labels."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        record = json.loads(manifest.read_text())
        asked = dict(zip(record.get("files", []), record.get("sampling", {}).get("labels") or []))
        labels = [asked.get(name) for name in generated.names]
        if any(labels):
            return [label or UNLABELED for label in labels]
    if set(generated.labels) - {UNLABELED}:
        return list(generated.labels)
    return None


def main(argv: list[str] | None = None) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = parse_config(sys.argv[1:] if argv is None else argv)
        report = evaluate(cfg)
    except HelpRequested as request:
        sys.stdout.write(request.text(__doc__))
        return 0
    except (ValueError, FileNotFoundError) as err:
        log.error("%s", err)
        return 2
    write_table(report, Console(file=sys.stdout))
    if cfg.out:
        out = Path(cfg.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
        log.info("wrote %s", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
