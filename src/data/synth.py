"""A small deterministic drum synthesiser: the built-in demo data set.

Nothing is downloaded: kicks, snares and hi-hats are made from sines and filtered
noise with per-hit random parameters drawn from a seeded generator, so every
machine writes the same kit."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from scipy import signal

from src.audio.io import fit_length, resample, to_channels, write_wav

log = logging.getLogger(__name__)

KIT_VERSION = 2  # bump when the synthesis changes, so old kits are rewritten
DRUM_KINDS = ("kick", "snare", "hihat")
# The demo data set as the datamodule writes it (write_demo_kit's defaults); models at other rates,
# channel counts and lengths train on these files converted.
DEMO_RATE, DEMO_CHANNELS, DEMO_LENGTH = 44100, 2, 32768
REFERENCE_SEED = 777  # the default held-out reference kit; the demo data set is seed 0
# Band-pass edges are kept below this share of Nyquist (a Butterworth edge at Nyquist is invalid) and a
# band is at least this wide (high / low), so every voice stays a valid filter at any sample rate.
TOP_EDGE = 0.99
MIN_BAND_RATIO = 1.15
# The hat's lower edge is drawn in 6-8 kHz; at rates whose Nyquist is under 10 kHz the whole draw is
# scaled down so that 8 kHz lands at HAT_TOP_SHARE of Nyquist: the hat stays the top band of the rate.
HAT_LOW_HZ = (6000.0, 8000.0)
HAT_TOP_SHARE = 0.8


def _envelope(n: int, rate: int, decay_s: float, attack_s: float = 0.001) -> np.ndarray:
    t = np.arange(n) / rate
    attack = np.clip(t / attack_s, 0.0, 1.0)
    return attack * np.exp(-t / decay_s)


def band_edges(low: float, high: float, rate: int) -> tuple[float, float]:
    """(low, high) as shares of Nyquist with 0 < low < high < 1.

    The upper edge is capped at TOP_EDGE and the lower one moved down to keep the band MIN_BAND_RATIO
    wide; bands that already fit are unchanged, so kits at 44.1 kHz are as they always were."""
    nyquist = rate / 2
    top = min(high / nyquist, TOP_EDGE)
    return min(low / nyquist, top / MIN_BAND_RATIO), top


def _filtered_noise(rng: np.random.Generator, n: int, rate: int, band: tuple[float, float]) -> np.ndarray:
    sos = signal.butter(4, band_edges(*band, rate), btype="band", output="sos")
    return signal.sosfilt(sos, rng.standard_normal(n))


def kick(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    t = np.arange(n) / rate
    f_end, f_start = rng.uniform(40, 65), rng.uniform(120, 220)
    sweep_s = rng.uniform(0.02, 0.06)
    freq = f_end + (f_start - f_end) * np.exp(-t / sweep_s)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    body = np.sin(phase) * _envelope(n, rate, rng.uniform(0.12, 0.35))
    click = _filtered_noise(rng, n, rate, (1500, 6000)) * _envelope(n, rate, 0.004)
    return body + rng.uniform(0.05, 0.2) * click


def snare(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    t = np.arange(n) / rate
    f0 = rng.uniform(160, 240)
    tone = (np.sin(2 * np.pi * f0 * t) + 0.5 * np.sin(2 * np.pi * 1.7 * f0 * t)) * _envelope(n, rate, rng.uniform(0.04, 0.09))
    rattle = _filtered_noise(rng, n, rate, (rng.uniform(1500, 3000), rng.uniform(7000, 10000)))
    rattle = rattle / (np.abs(rattle).max() + 1e-9) * _envelope(n, rate, rng.uniform(0.08, 0.2))
    return rng.uniform(0.4, 0.8) * tone + rattle


def hihat(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    scale = min(1.0, HAT_TOP_SHARE * rate / 2 / HAT_LOW_HZ[1])  # 1 from 20 kHz up: 44.1/22.05 kHz unchanged
    noise = _filtered_noise(rng, n, rate, (rng.uniform(*HAT_LOW_HZ) * scale, rate / 2 * 0.95))
    # Mostly closed hats with the odd open one.
    decay = rng.uniform(0.15, 0.3) if rng.random() < 0.25 else rng.uniform(0.02, 0.06)
    return noise / (np.abs(noise).max() + 1e-9) * _envelope(n, rate, decay)


def synth_hit(kind: str, rng: np.random.Generator, length: int, rate: int, channels: int) -> np.ndarray:
    """One normalised hit of `kind` as a (channels, length) float32 array."""
    voices = {"kick": kick, "snare": snare, "hihat": hihat}
    if kind not in voices:
        raise ValueError(f"unknown drum kind {kind!r}; expected one of {DRUM_KINDS}")
    mono = voices[kind](rng, length, rate)
    mono = mono / (np.abs(mono).max() + 1e-9) * rng.uniform(0.6, 0.95)
    # A little random pan so stereo models see some inter-channel variation.
    pan = rng.uniform(-0.3, 0.3)
    gains = np.array([1 - max(pan, 0.0), 1 + min(pan, 0.0)])[:channels] if channels == 2 else np.ones(channels)
    return (gains[:, None] * mono[None, :]).astype(np.float32)


def _kit_hits(hits_per_kind: int, sample_rate: int, channels: int, length: int,
              seed: int) -> Iterator[tuple[str, int, np.ndarray]]:
    """(kind, index within kind, hit) for every hit of a kit, in the order the files are written.

    One generator drives the whole kit, so a kit in memory and one on disk with the same settings match."""
    if hits_per_kind < 1 or sample_rate <= 0 or channels < 1 or length < 1:
        raise ValueError(f"invalid kit settings: hits_per_kind={hits_per_kind}, sample_rate={sample_rate}, "
                         f"channels={channels}, length={length} (all must be positive)")
    rng = np.random.default_rng(seed)
    for kind in DRUM_KINDS:
        for i in range(hits_per_kind):
            yield kind, i, synth_hit(kind, rng, length, sample_rate, channels)


def synth_kit(hits_per_kind: int = 16, sample_rate: int = DEMO_RATE, channels: int = DEMO_CHANNELS,
              length: int = DEMO_LENGTH, seed: int = REFERENCE_SEED) -> tuple[torch.Tensor, list[str]]:
    """A kit in memory, no files: ((N, channels, length) float32 audio, N drum-kind labels), N = 3 * hits_per_kind.

    Class-balanced and deterministic for a seed. The demo data set is seed 0 (`write_demo_kit`), so the
    default seed 777 gives a held-out reference of the same distribution."""
    hits = list(_kit_hits(hits_per_kind, sample_rate, channels, length, seed))
    audio = torch.from_numpy(np.stack([hit for _, _, hit in hits]))
    return audio, [kind for kind, _, _ in hits]


def reference_kit(hits_per_kind: int, sample_rate: int, channels: int, length: int,
                  seed: int = REFERENCE_SEED) -> tuple[torch.Tensor, list[str]]:
    """A kit drawn like the demo data set and converted as the datamodule converts its files: synthesised
    at DEMO_RATE, DEMO_CHANNELS x DEMO_LENGTH, then resampled to `sample_rate`, mixed down or duplicated
    to `channels` and cropped from the start or zero-padded to `length` -> ((N, channels, length), labels).

    This, not `synth_kit` at the model's rate, is a held-out sample of what a demo model trained on: the
    demo's hats sit above 6 kHz, so at 8 kHz only their faint skirt below 4 kHz is left, while a kit
    synthesised at 8 kHz has loud hats just under 4 kHz."""
    clips, labels = [], []
    for kind, _, hit in _kit_hits(hits_per_kind, DEMO_RATE, DEMO_CHANNELS, DEMO_LENGTH, seed):
        audio = resample(torch.from_numpy(hit), DEMO_RATE, sample_rate)  # one at a time: large kits stay small
        clips.append(fit_length(to_channels(audio, channels), length))
        labels.append(kind)
    return torch.stack(clips).float().contiguous(), labels


def remove_stale_hits(out_dir: Path, written: set[Path]) -> None:
    """Delete the hits a previous, larger kit wrote here (files named as this module names them,
    <kind>/<kind>_<nnn>.wav), so a smaller kit is not trained with them; other files stay."""
    for kind in DRUM_KINDS:
        for path in (out_dir / kind).glob(f"{kind}_[0-9][0-9][0-9].wav"):
            if path not in written:
                log.info("Removing %s: not part of the kit now written", path)
                path.unlink()


def write_demo_kit(
    out_dir: str | Path,
    hits_per_kind: int = 16,
    sample_rate: int = DEMO_RATE,
    channels: int = DEMO_CHANNELS,
    length: int = DEMO_LENGTH,
    seed: int = 0,
) -> Path:
    """Write the kit under `out_dir` unless an identical one is already there.

    A manifest is written last, so an interrupted write is redone on the next call."""
    out_dir = Path(out_dir)
    settings = dict(version=KIT_VERSION, hits_per_kind=hits_per_kind, sample_rate=sample_rate,
                    channels=channels, length=length, seed=seed)
    manifest = out_dir / "kit.json"
    if manifest.exists() and json.loads(manifest.read_text()) == settings:
        return out_dir
    log.info("Writing the synthetic demo drum kit to %s", out_dir)
    written = set()
    for kind, i, hit in _kit_hits(hits_per_kind, sample_rate, channels, length, seed):
        written.add(write_wav(out_dir / kind / f"{kind}_{i:03d}.wav", torch.from_numpy(hit), sample_rate))
    remove_stale_hits(out_dir, written)
    manifest.write_text(json.dumps(settings, indent=2))
    return out_dir
