"""Score a folder of generated audio against a reference folder.

    python -m src.metrics.evaluate generated=<folder> reference=<folder> [sample_rate=16000]
        [length=<samples>] [bootstrap=200] [seed=0] [embeddings=[logmel,mfcc,crepe]]
        [crepe_model=tiny] [memorization=true] [device=cpu] [out=<report.json>]

Files (wav/flac/ogg/mp3, recursive) are resampled to `sample_rate`, mixed to mono and cropped or
zero-padded to `length` samples (default: the longest clip in either folder). Unreadable files are
skipped with a warning. For each feature set the Fréchet and kernel distances (see
src/metrics/distances.py) are reported with bootstrap intervals, plus a memorisation check of the
generated clips against the reference clips (src/metrics/memorization.py). Lower is better; compare
scores only at equal set sizes."""

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
from rich.table import Table

from src.audio.io import AUDIO_EXTENSIONS, AudioDecodeError, fit_length, read_audio, resample
from src.metrics.distances import frechet_estimate, kernel_estimate
from src.metrics.features import CREPE_MODELS, FEATURE_NAMES, extract_features
from src.metrics.memorization import memorization_check

log = logging.getLogger(__name__)


@dataclass
class EvaluateConfig:
    generated: str = MISSING
    reference: str = MISSING
    sample_rate: int = 16000
    length: int | None = None  # samples; None: the longest clip in either folder
    bootstrap: int = 200  # resampling rounds; 0 skips the intervals
    seed: int = 0
    embeddings: list[str] = field(default_factory=lambda: list(FEATURE_NAMES))
    crepe_model: str = "tiny"  # "full" (2048-d) is 10-30x slower on CPU: use it on a GPU (device=cuda)
    memorization: bool = True
    device: str = "cpu"
    out: str | None = None


def parse_config(argv: list[str]) -> EvaluateConfig:
    """key=value arguments merged onto the defaults; unknown keys, bad types and bad values raise ValueError."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(EvaluateConfig), OmegaConf.from_cli(argv))
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        keys = ", ".join(f.name for f in EvaluateConfig.__dataclass_fields__.values())
        raise ValueError(f"bad argument: {err}. Valid keys: {keys}") from err
    assert isinstance(cfg, EvaluateConfig)  # to_object of a structured config returns the dataclass
    for key, value, smallest in (("sample_rate", cfg.sample_rate, 1), ("length", cfg.length or 1, 1),
                                 ("bootstrap", cfg.bootstrap, 0)):
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


@dataclass
class AudioSet:
    folder: Path
    files: list[Path]
    clips: list[torch.Tensor]  # (1, samples) mono at the target rate, before length fitting
    skipped: list[str]

    def stacked(self, length: int) -> torch.Tensor:
        return torch.stack([fit_length(clip, length) for clip in self.clips])

    def names(self) -> list[str]:
        return [path.relative_to(self.folder).as_posix() for path in self.files]


def load_folder(folder: str | Path, sample_rate: int, role: str) -> AudioSet:
    """Every readable audio file under `folder` as mono clips at `sample_rate`; `role` names it in errors."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{role} folder not found: {folder}")
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    files, clips, skipped = [], [], []
    for path in paths:
        try:
            audio, rate = read_audio(path)
        except AudioDecodeError as err:
            log.warning("skipping unreadable %s file: %s", role, err)
            skipped.append(str(err))
            continue
        files.append(path)
        clips.append(resample(audio.mean(dim=0, keepdim=True), rate, sample_rate))
    if len(files) < 2:
        raise ValueError(f"{role} folder {folder} has {len(files)} readable audio file(s) "
                         f"({', '.join(AUDIO_EXTENSIONS)}); at least 2 are needed")
    return AudioSet(folder, files, clips, skipped)


def _score_features(generated: torch.Tensor, reference: torch.Tensor,
                    cfg: EvaluateConfig) -> dict[str, object]:
    frechet = frechet_estimate(generated, reference, cfg.bootstrap, cfg.seed)
    kernel, bandwidth = kernel_estimate(generated, reference, cfg.bootstrap, cfg.seed)
    return {"dim": generated.shape[1], "frechet": frechet.to_dict(),
            "kernel": {**kernel.to_dict(), "bandwidth": bandwidth}}


def evaluate(cfg: EvaluateConfig) -> dict[str, object]:
    """The full report as a JSON-ready dict."""
    generated = load_folder(cfg.generated, cfg.sample_rate, "generated")
    reference = load_folder(cfg.reference, cfg.sample_rate, "reference")
    length = cfg.length or max(clip.shape[-1] for clip in generated.clips + reference.clips)
    gen_audio, ref_audio = generated.stacked(length).to(cfg.device), reference.stacked(length).to(cfg.device)
    log.info("scoring %d generated vs %d reference clips of %d samples at %d Hz",
             len(gen_audio), len(ref_audio), length, cfg.sample_rate)
    metrics = {}
    for name in cfg.embeddings:
        start = time.perf_counter()
        gen_feats = extract_features(gen_audio, cfg.sample_rate, [name], cfg.crepe_model)[name]
        ref_feats = extract_features(ref_audio, cfg.sample_rate, [name], cfg.crepe_model)[name]
        metrics[name] = _score_features(gen_feats, ref_feats, cfg)
        log.info("%s done in %.1f s", name, time.perf_counter() - start)
    report: dict[str, object] = {
        "config": asdict(cfg), "sample_rate": cfg.sample_rate, "length": length,
        "generated": {"folder": str(generated.folder), "n": len(generated.files), "skipped": generated.skipped},
        "reference": {"folder": str(reference.folder), "n": len(reference.files), "skipped": reference.skipped},
        "metrics": metrics,
    }
    if cfg.memorization:
        memo = memorization_check(gen_audio, ref_audio, cfg.sample_rate)
        report["memorization"] = memo.to_dict(generated.names(), reference.names())
    return report


def _interval(estimate: dict[str, object]) -> str:
    text = f"{estimate['value']:.4g}"
    if estimate["low"] is not None:
        text += f" [{estimate['low']:.4g}, {estimate['high']:.4g}]"
    return text


def write_table(report: dict[str, object], console: Console) -> None:
    """The report as a table on `console`."""
    table = Table(title=f"generated ({report['generated']['n']}) vs reference ({report['reference']['n']}), "
                        "value [95% interval], lower is better")
    for column in ("features", "dim", "Fréchet", "kernel (MMD²)"):
        table.add_column(column)
    for name, scores in report["metrics"].items():
        table.add_row(name, str(scores["dim"]), _interval(scores["frechet"]), _interval(scores["kernel"]))
    console.print(table)
    memo = report.get("memorization")
    if memo:
        ratio = "n/a" if memo["ratio_of_medians"] is None else f"{memo['ratio_of_medians']:.3f}"
        console.print(
            f"memorisation: NN-distance ratio {ratio} (≈1 healthy, ≈0 copying), "
            f"{memo['fraction_closer_than_typical']:.0%} closer than typical (≈50% healthy), "
            f"{len(memo['suspected_copies'])} suspected copies")
        for copy in memo["suspected_copies"]:
            console.print(f"  {copy['generated']} ≈ {copy['training']} ({copy['distance_db']:.2f} dB)")


def main(argv: list[str] | None = None) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = parse_config(sys.argv[1:] if argv is None else argv)
        report = evaluate(cfg)
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
