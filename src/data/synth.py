"""A small deterministic drum synthesiser: the built-in demo data set.

Nothing is downloaded: kicks, snares and hi-hats are made from sines and filtered
noise with per-hit random parameters drawn from a seeded generator, so every
machine writes the same kit."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from scipy import signal

from src.audio.io import write_wav

log = logging.getLogger(__name__)

KIT_VERSION = 1  # bump when the synthesis changes, so old kits are rewritten
DRUM_KINDS = ("kick", "snare", "hihat")


def _envelope(n: int, rate: int, decay_s: float, attack_s: float = 0.001) -> np.ndarray:
    t = np.arange(n) / rate
    attack = np.clip(t / attack_s, 0.0, 1.0)
    return attack * np.exp(-t / decay_s)


def _filtered_noise(rng: np.random.Generator, n: int, rate: int, band: tuple[float, float]) -> np.ndarray:
    low, high = band
    nyquist = rate / 2
    sos = signal.butter(4, [low / nyquist, min(high / nyquist, 0.99)], btype="band", output="sos")
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
    noise = _filtered_noise(rng, n, rate, (rng.uniform(6000, 8000), rate / 2 * 0.95))
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


def write_demo_kit(
    out_dir: str | Path,
    hits_per_kind: int = 16,
    sample_rate: int = 44100,
    channels: int = 2,
    length: int = 32768,
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
    import torch  # local: keeps this module light for the data-only CLI

    rng = np.random.default_rng(seed)
    for kind in DRUM_KINDS:
        for i in range(hits_per_kind):
            hit = synth_hit(kind, rng, length, sample_rate, channels)
            write_wav(out_dir / kind / f"{kind}_{i:03d}.wav", torch.from_numpy(hit), sample_rate)
    manifest.write_text(json.dumps(settings, indent=2))
    return out_dir
