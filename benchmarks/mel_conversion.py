"""Our torch mel conversion vs diffusers' librosa-based `Mel`, on the same clips.

    python benchmarks/mel_conversion.py [--clips 30] [--res 256] [--group 8]

Clips: the drum one-shots in ../shared/data/drum_oneshots when present, else the synthetic
kit; mono, resampled to 22.05 kHz and padded/cut to one slice (res * 512 - 1 samples).
Both sides run on one CPU thread (set below, before numpy/torch load), the fair per-clip
comparison on a shared machine. Everything is interleaved: clips go in groups; each group
times our batched calls, then per clip diffusers and ours alternately (who goes first
alternates too), so machine noise hits both sides alike. Speed-ups are medians of
per-clip (per-group for batches) ratios. Spectral convergence (lower is better) is the
gain-fitted one of `src.metrics.reconstruction.spectral_convergence` against the input clip."""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import logging  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import markdown_table, timed  # noqa: E402
from src.audio.io import fit_length, read_audio, resample  # noqa: E402
from src.data.synth import write_demo_kit  # noqa: E402
from src.metrics.reconstruction import spectral_convergence  # noqa: E402
from src.representations.mel import MelParams, audio_to_image, image_to_audio  # noqa: E402
from src.utils.cli import parse_cli, run_cli  # noqa: E402

log = logging.getLogger("mel_conversion")
RATE = 22050
ONESHOTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "drum_oneshots"


def load_clips(count: int, size: int) -> tuple[torch.Tensor, str]:
    source = ONESHOTS if any(ONESHOTS.glob("*.wav")) else write_demo_kit(Path(tempfile.mkdtemp()) / "kit")
    files = sorted(Path(source).rglob("*.wav"))[:count]
    clips = []
    for path in files:
        audio, rate = read_audio(path)
        clips.append(fit_length(resample(audio.mean(dim=0, keepdim=True), rate, RATE), size)[0])
    return torch.stack(clips), f"{len(files)} clips from {source}"


def time_clip(mel, clip: torch.Tensor, params: MelParams, ours_first: bool, seed: int) -> dict[str, float]:
    """Encode and decode one clip with both; returns seconds, image agreement and SC."""
    out: dict[str, float] = {}

    def theirs_encode() -> None:
        mel.load_audio(raw_audio=clip.numpy())
        out["their_image"] = mel.audio_slice_to_image(0)

    def ours_encode() -> None:
        out["our_image"] = audio_to_image(clip, params)

    def theirs_decode() -> None:
        np.random.seed(seed)  # librosa's Griffin-Lim draws phases from numpy's global RNG
        out["their_audio"] = mel.image_to_audio(out["their_image"])

    def ours_decode() -> None:
        out["our_audio"] = image_to_audio(out["our_image"], params)

    steps = [("enc", theirs_encode, ours_encode), ("dec", theirs_decode, ours_decode)]
    for name, theirs, ours in steps:
        pair = [("ours", ours), ("theirs", theirs)] if ours_first else [("theirs", theirs), ("ours", ours)]
        for who, fn in pair:
            out[f"{who}_{name}"] = timed(fn)
    reference = np.asarray(out["their_image"], dtype=np.float32)
    out["grey_diff"] = float(np.abs(reference - out["our_image"].numpy()).mean())
    out["sc_ours"] = spectral_convergence(clip, out["our_audio"], params.n_fft, params.hop_length).item()
    out["sc_theirs"] = spectral_convergence(clip, torch.from_numpy(out["their_audio"]).float(), params.n_fft, params.hop_length).item()
    return out


def time_group(mel, group: torch.Tensor, params: MelParams, start: int) -> tuple[list[dict], dict[str, float]]:
    """Our batched calls on the group, then each clip side by side."""
    images = audio_to_image(group, params)
    batch = {"enc": timed(lambda: audio_to_image(group, params)) / len(group),
             "dec": timed(lambda: image_to_audio(images, params)) / len(group)}
    rows = [time_clip(mel, clip, params, (start + i) % 2 == 0, start + i) for i, clip in enumerate(group)]
    for name in ("enc", "dec"):
        batch[f"ratio_{name}"] = float(np.mean([r[f"theirs_{name}"] for r in rows])) / batch[name]
    return rows, batch


def report(rows: list[dict], batches: list[dict], group: int) -> str:
    def med(key: str) -> float:
        return float(np.median([r[key] for r in rows]))

    def ratio(name: str) -> float:
        return float(np.median([r[f"theirs_{name}"] / r[f"ours_{name}"] for r in rows]))

    def batched(key: str) -> float:
        return float(np.median([b[key] for b in batches]))

    table = []
    for name, label, digits in (("enc", "audio -> image", 1), ("dec", "image -> audio (Griffin-Lim)", 0)):
        theirs = f"{med(f'theirs_{name}') * 1e3:.{digits}f}"
        table.append([f"{label}, per clip", theirs, f"{med(f'ours_{name}') * 1e3:.{digits}f}", f"{ratio(name):.1f}x"])
        table.append([f"{label}, batches of {group}", theirs, f"{batched(name) * 1e3:.{digits}f}",
                      f"{batched(f'ratio_{name}'):.1f}x"])
    sc_ours, sc_theirs = (np.array([r[k] for r in rows]) for k in ("sc_ours", "sc_theirs"))
    lines = [markdown_table(["step", "diffusers ms/clip", "ours ms/clip", "speed-up (median ratio)"], table), "",
             "spectral convergence of the round trip (mean +- sd over clips, lower is better): "
             f"diffusers {sc_theirs.mean():.4f} +- {sc_theirs.std():.4f}, "
             f"ours {sc_ours.mean():.4f} +- {sc_ours.std():.4f}; "
             f"ours lower on {(sc_ours < sc_theirs).sum()} of {len(rows)} clips",
             f"image agreement: mean |grey difference| {np.mean([r['grey_diff'] for r in rows]):.5f} levels"]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    # clips: number of clips; res: x_res = y_res of the images; group: batch size of our batched calls
    args = parse_cli({"clips": 30, "res": 256, "group": 8}, argv)
    warnings.filterwarnings("ignore", category=FutureWarning)  # diffusers' deprecated-pipeline notice
    from diffusers.pipelines.deprecated.audio_diffusion.mel import Mel

    torch.set_num_threads(1)
    params = MelParams(n_mels=args.res)
    mel = Mel(x_res=args.res, y_res=args.res, sample_rate=RATE)
    clips, source = load_clips(args.clips, args.res * params.hop_length - 1)
    time_clip(mel, clips[0], params, True, 0)  # warm-up: librosa's caches, torch's first calls
    rows, batches = [], []
    for start in range(0, len(clips), args.group):
        group_rows, batch = time_group(mel, clips[start : start + args.group], params, start)
        rows += group_rows
        batches.append(batch)
        log.info("timed %d/%d clips", len(rows), len(clips))
    log.info("%s, %dx%d images, 1 CPU thread, torch %s\n\n%s", source, args.res, args.res,
             torch.__version__, report(rows, batches, args.group))


if __name__ == "__main__":
    run_cli(main)
