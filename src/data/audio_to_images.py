"""Convert a folder of audio into mel-spectrogram PNG slices (teticio's dataset format).

    python -m src.data.audio_to_images input_dir=<audio> output_dir=<images> resolution=256 hop_length=512

Options (key=value; unknown keys are errors): resolution (N, WxH or W,H: width = frames,
height = mel bands), sample_rate, n_fft, hop_length, top_db, workers.

Each audio file (recursive; wav/flac/ogg/mp3) is mixed to mono, resampled and cut into
consecutive slices of `width * hop_length - 1` samples, written as
`<output_dir>/<relative path without suffix>/slice_0000.png`. A trailing partial slice is
zero-padded when at least half full and dropped otherwise; a file shorter than one slice
still gives one zero-padded slice (as diffusers' `Mel.load_audio` pads), so one-shots are
kept. Digitally silent slices (an all-white image: dB is relative to each slice's own
peak) are left out, as teticio's converter does; their numbers are then missing.
`metadata.jsonl` (the Hugging Face imagefolder layout) maps every slice to its source and
start/end seconds. A `_done.json` marker per file, written last, makes reruns skip
finished files; unreadable, empty or non-finite files are skipped with one warning."""

from __future__ import annotations

import json
import logging
import multiprocessing
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from src.audio.io import AUDIO_EXTENSIONS, AudioDecodeError, read_audio, resample, to_channels
from src.representations.mel import GREY_MAX, MelParams, audio_to_image, save_mel_png
from src.utils.cli import HelpRequested, parse_cli

log = logging.getLogger(__name__)

MARKER = "_done.json"
METADATA = "metadata.jsonl"
CHUNK = 32  # slices converted per batch: bounds memory on hour-long files


@dataclass
class ConvertConfig:
    input_dir: str = MISSING
    output_dir: str = MISSING
    resolution: str = "256"  # N (square), WxH or W,H
    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    top_db: float = 80.0
    workers: int = 1


@dataclass(frozen=True)
class Job:
    source: Path
    source_rel: str  # relative to input_dir, with suffix (for metadata)
    out_rel: str  # relative to output_dir: source_rel without suffix
    output_dir: Path
    params: MelParams
    x_res: int

    @property
    def folder(self) -> Path:
        return self.output_dir / self.out_rel

    def settings(self) -> dict:
        return {"x_res": self.x_res, **asdict(self.params)}


@dataclass
class JobResult:
    status: str  # "converted", "done" (already converted) or "skipped"
    records: list[dict]
    message: str = ""
    silent: int = 0  # slices left out as digital silence


def parse_resolution(text: str) -> tuple[int, int]:
    """'256' -> (256, 256); '512x128' or '512,128' (teticio's form) -> (width 512, height 128)."""
    parts = str(text).lower().replace(",", "x").split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) < 1:
        raise ValueError(f"resolution must be N or WxH with positive integers, got {text!r}")
    return sizes[0], sizes[-1]


def slice_bounds(n: int, size: int) -> list[tuple[int, int]]:
    """Sample ranges of the slices of an `n`-sample signal (see the module doc for the tail rule)."""
    full, rest = divmod(n, size)
    bounds = [(i * size, (i + 1) * size) for i in range(full)]
    if rest and (2 * rest >= size or full == 0):
        bounds.append((full * size, n))
    return bounds


def _load_mono(job: Job) -> torch.Tensor:
    audio, rate = read_audio(job.source)
    return resample(to_channels(audio, 1), rate, job.params.sample_rate)[0]


def _finished_records(job: Job) -> list[dict] | None:
    """The marker's records when this file was already converted with the same settings."""
    marker = job.folder / MARKER
    if not marker.is_file():
        return None
    try:
        done = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    records = done.get("slices", [])
    if done.get("settings") != job.settings() or not all((job.output_dir / r["file_name"]).is_file() for r in records):
        return None
    return records


def _write_slices(job: Job, audio: torch.Tensor) -> tuple[list[dict], int]:
    """Write the non-silent slices; returns their records and how many were silent."""
    size = job.x_res * job.params.hop_length - 1
    bounds = slice_bounds(audio.shape[-1], size)
    padded = torch.nn.functional.pad(audio, (0, len(bounds) * size - audio.shape[-1]))[: len(bounds) * size]
    slices = padded.reshape(len(bounds), size)
    records, rate, silent = [], job.params.sample_rate, 0
    for first in range(0, len(bounds), CHUNK):
        for offset, image in enumerate(audio_to_image(slices[first : first + CHUNK], job.params)):
            index = first + offset
            if bool((image == GREY_MAX).all()):
                silent += 1
                continue
            name = f"{job.out_rel}/slice_{index:04d}.png"
            save_mel_png(job.output_dir / name, image)
            start, end = bounds[index]
            records.append({"file_name": name, "source": job.source_rel, "slice": index,
                            "start": start / rate, "end": end / rate})
    return records, silent


def convert_file(job: Job) -> JobResult:
    """Convert one file, or report it unusable (never raises for bad audio)."""
    try:
        audio = _load_mono(job)
    except AudioDecodeError as err:
        return JobResult("skipped", [], str(err))
    for stale in job.folder.glob("slice_*.png"):  # left by a run with other settings
        stale.unlink()
    records, silent = _write_slices(job, audio)
    job.folder.mkdir(parents=True, exist_ok=True)  # also when every slice was silent
    (job.folder / MARKER).write_text(json.dumps({"settings": job.settings(), "slices": records}, indent=1))
    return JobResult("converted", records, silent=silent)


def plan_jobs(cfg: ConvertConfig) -> tuple[list[Job], list[JobResult]]:
    """One job per audio file; files whose output folder another file already claims are skipped."""
    root, out = Path(cfg.input_dir).expanduser(), Path(cfg.output_dir).expanduser()
    if not root.is_dir():
        raise SystemExit(f"audio_to_images: input folder not found: {root}")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise SystemExit(f"audio_to_images: no audio files ({', '.join(AUDIO_EXTENSIONS)}) under {root}")
    x_res, y_res = parse_resolution(cfg.resolution)
    params = MelParams(cfg.sample_rate, cfg.n_fft, cfg.hop_length, y_res, float(cfg.top_db))
    jobs, clashes, claimed = [], [], {}
    for path in files:
        rel = path.relative_to(root)
        out_rel = rel.with_suffix("").as_posix()
        if out_rel in claimed:
            taken = f"{path}: its output folder {out / out_rel} is taken by {claimed[out_rel]}"
            clashes.append(JobResult("skipped", [], taken))
            continue
        claimed[out_rel] = path
        jobs.append(Job(path, rel.as_posix(), out_rel, out, params, x_res))
    return jobs, clashes


def split_finished(jobs: list[Job]) -> tuple[list[Job], list[JobResult]]:
    """Jobs still to run, and results for files a previous run completed (checked here, in
    the parent, so a fully resumed run starts no worker processes)."""
    pending, done = [], []
    for job in jobs:
        records = _finished_records(job)
        if records is None:
            pending.append(job)
        else:
            done.append(JobResult("done", records))
    return pending, done


def _init_worker() -> None:
    torch.set_num_threads(1)  # one file per process: threads would only oversubscribe the cores


def run_jobs(jobs: list[Job], workers: int) -> list[JobResult]:
    if workers <= 1 or len(jobs) <= 1:
        return [convert_file(job) for job in jobs]
    context = multiprocessing.get_context("spawn")  # fork is unsafe once torch's thread pools exist
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context, initializer=_init_worker) as pool:
        return list(pool.map(convert_file, jobs, chunksize=4))


def write_metadata(output_dir: Path, results: list[JobResult]) -> Path:
    records = sorted((r for result in results for r in result.records), key=lambda r: r["file_name"])
    path = output_dir / METADATA
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
    tmp.replace(path)  # atomic: a crash never leaves half a metadata file
    return path


def load_config(argv: list[str] | None) -> ConvertConfig:
    try:
        config: ConvertConfig = OmegaConf.to_object(parse_cli(ConvertConfig, sys.argv[1:] if argv is None else argv))
    except HelpRequested as request:
        sys.stdout.write(request.text(__doc__))
        raise SystemExit(0) from None
    except (ValueError, OmegaConfBaseException) as err:
        raise SystemExit(f"audio_to_images: {err}") from err
    if config.workers < 1:
        raise SystemExit(f"audio_to_images: workers must be at least 1, got {config.workers}")
    return config


def main(argv: list[str] | None = None) -> Counter:
    """Run the conversion; returns counts of files per status ('converted', 'done', 'skipped')."""
    cfg = load_config(argv)
    try:
        jobs, results = plan_jobs(cfg)
    except ValueError as err:  # bad resolution or mel settings
        raise SystemExit(f"audio_to_images: {err}") from err
    pending, done = split_finished(jobs)
    results += done + run_jobs(pending, cfg.workers)
    for result in results:
        if result.status == "skipped":
            log.warning("skipping %s", result.message)
    output_dir = Path(cfg.output_dir).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    metadata = write_metadata(output_dir, results)
    counts = Counter(result.status for result in results)
    slices = sum(len(r.records) for r in results if r.status == "converted")
    silent = sum(r.silent for r in results)
    log.info("converted %d files (%d slices, %d silent slices left out), %d already done, %d skipped; "
             "metadata in %s", counts["converted"], slices, silent, counts["done"], counts["skipped"], metadata)
    return counts


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    main()
