"""Shared by the quality benchmarks: sample a model, score the clips on the floor scale against a
held-out synthetic kit, and format the scores as table cells."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image

from src.audio.spectrogram import save_spectrogram_png, spectrogram_image
from src.data.synth import reference_kit
from src.metrics.audio_sets import kit_hits_per_kind
from src.metrics.scale import score_against_floor
from src.models.diffusion_module import AudioDiffusionModule
from src.networks.conditioning import one_label
from src.processes.base import per_item
from src.representations.base import Representation
from src.representations.waveform import WaveformRepresentation


def noised(model: AudioDiffusionModule, x0: torch.Tensor, t: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x_t, times): x0 taken to the process's time t with a seeded noise, the same for every
    checkpoint, so two models' errors on held-out hits are compared on one draw."""
    times = torch.full((len(x0),), t)
    alpha, sigma = (per_item(s, x0) for s in model.process.alpha_sigma(times))
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    return alpha * x0 + sigma * noise, times


SCALE_HEADER = ["Fréchet / floor [95%]", "density / floor", "coverage / floor", "classes", "ceiling Fréchet / floor"]


@torch.no_grad()
def generate_clips(model: AudioDiffusionModule, num_samples: int, steps: int, seed: int,
                   sampler: str | None = None, batch: int = 16, label: int | None = None,
                   cfg_scale: float | None = None) -> torch.Tensor:
    """(num_samples, C, T) audio from noise seeded by `seed`: the same noise for every model of a shape
    (and for every label of a conditional model; label None samples it unconditionally)."""
    noise = model.noise(num_samples, torch.Generator().manual_seed(seed))
    clips = []
    for chunk in noise.split(batch):
        clips.append(model.generate_from_noise(chunk, steps, sampler, labels=one_label(label, len(chunk)),
                                               cfg_scale=cfg_scale))
    return torch.cat(clips)


def save_pictures(audio: torch.Tensor, sample_rate: int, folder: Path, count: int = 6) -> None:
    for i in range(min(count, len(audio))):
        save_spectrogram_png(folder / f"sample_{i:02d}.png", audio[i], sample_rate)


def save_montage(model: AudioDiffusionModule, audio: torch.Tensor, path: Path, per_class: int = 2,
                 tile: int = 128) -> None:
    """One PNG to look at: held-out kit clips (two per class) above the first generated clips."""
    rep = model.representation
    kit, labels = reference_kit(per_class, rep.sample_rate, rep.channels, rep.length)
    save_sheet([kit, audio[: len(kit)]], rep.sample_rate, path, tile)


def save_sheet(rows: list[torch.Tensor], sample_rate: int, path: Path, tile: int = 128) -> None:
    """Rows of clips as one PNG of spectrogram tiles, low frequencies at the bottom of each."""
    sheet = Image.new("RGB", (tile * max(len(clips) for clips in rows), tile * len(rows)))
    for r, clips in enumerate(rows):
        for c, clip in enumerate(clips):
            picture = Image.fromarray(spectrogram_image(clip, sample_rate)).convert("RGB")
            sheet.paste(picture.resize((tile, tile)), (c * tile, r * tile))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def round_trip(rep: Representation, device: torch.device | str = "cpu") -> Callable[[torch.Tensor], torch.Tensor]:
    """Audio -> audio through `rep` and back on `device`, clipped to [-1, 1]: what a ceiling scores."""
    return lambda x: rep.decode(rep.encode(x.to(device))).float().clamp(-1, 1)


def floor_scores(model: AudioDiffusionModule, audio: torch.Tensor, seed: int, bootstrap: int = 200) -> dict:
    """The floor scale of `audio` against a held-out kit made like the demo's data (synthesiser seed 777,
    each half as large as the generated set); mel and latent representations add their round-trip ceiling."""
    rep = model.representation
    reference, labels = reference_kit(kit_hits_per_kind(len(audio)), rep.sample_rate, rep.channels, rep.length)
    lossless = isinstance(rep, WaveformRepresentation)  # mel and latent round trips lose something: score it
    return score_against_floor(audio, reference, labels, rep.sample_rate, bootstrap=bootstrap, seed=seed,
                               round_trip=None if lossless else round_trip(rep, model.device)).to_dict()


def scale_cells(result: dict) -> list[str]:
    fd, ceiling = result["frechet"], result.get("ceiling") or {}
    return [f"{fd['ratio']:.2f} [{fd['ratio_low']:.2f}, {fd['ratio_high']:.2f}]",
            f"{result['density']['value']:.2f} / {result['density']['floor']:.2f}",
            f"{result['coverage']['value']:.2f} / {result['coverage']['floor']:.2f}",
            ", ".join(f"{k} {v}" for k, v in sorted(result["class_counts"].items())),
            f"{ceiling['frechet']['ratio']:.2f}" if ceiling else "-"]
