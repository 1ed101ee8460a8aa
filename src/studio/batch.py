"""What the studio's buttons do, without the page: check a request, run it through generate.py's
own `generate` clip by clip (so a batch can be cancelled between clips and shows its progress),
and pack a batch into a zip with its manifest."""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from src.audio.decode import AudioDecodeError
from src.audio.io import read_audio
from src.generation.checkpoint import load_model
from src.generation.modes.runners import ANY_LABEL, MODE_SAMPLERS
from src.generation.sample import GenerateArgs, generate
from src.models.diffusion_module import AudioDiffusionModule

MODES = ("sample", "variation", "inpaint", "continue", "interpolate")
MAX_CLIPS = 12       # clips per batch (all labels together with label=all)
MAX_STEPS = 200      # sampling steps
MAX_UPLOAD_MB = 20   # the page refuses larger uploads; checked here too for direct calls


@dataclass
class Request:
    """One batch, as the page's controls set it (see GenerateArgs for the meaning of each)."""

    mode: str = "sample"
    label: str | None = None        # a label name, "all", "any" (a label drawn per clip), or None (unconditional)
    cfg_scale: float | None = None  # None: the model's default
    sampler: str | None = None      # None: the model's (sample) or DDIM (other modes)
    steps: int = 50
    seed: int = 0
    clips: int = 2
    strength: float = 0.5           # variation
    keep: str = ""                  # inpaint: seconds to keep, "0-0.1, 0.5-0.74"
    segments: int = 1               # continue
    overlap: float = 0.25           # continue
    loop: bool = False              # make every clip loop
    init_audio: str | None = None
    init_audio2: str | None = None  # interpolate: the second end


@dataclass
class Clip:
    wav: Path
    spectrogram: Path
    label: str | None
    seed: int


@dataclass
class Batch:
    folder: Path
    clips: list[Clip] = field(default_factory=list)
    total: int = 0
    cancelled: bool = False  # stopped before its last clip


def parse_keep(text: str) -> list[list[float]]:
    """'0-0.1, 0.5-0.74' -> [[0, 0.1], [0.5, 0.74]] (seconds to keep)."""
    spans = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        try:
            start, end = (float(value) for value in part.split("-"))
        except ValueError as err:
            raise ValueError(f"keep: {part!r} is not a span like 0.5-0.74 (seconds)") from err
        spans.append([start, end])
    if not spans:
        raise ValueError("inpaint needs spans to keep, in seconds, like 0-0.1, 0.5-0.74")
    return spans


def check_upload(path: str | None, name: str) -> str:
    """The path of a usable uploaded clip, or a ValueError saying what is wrong with it."""
    if not path:
        raise ValueError(f"this mode needs {name}: upload a clip or use a result as input")
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"{name}: the uploaded file is gone ({file.name}); upload it again")
    if file.stat().st_size > MAX_UPLOAD_MB * 1024 * 1024:
        raise ValueError(f"{name}: {file.name} is over {MAX_UPLOAD_MB} MB")
    try:
        read_audio(file)
    except AudioDecodeError as err:
        raise ValueError(f"{name}: {file.name} is not audio this studio can read ({err})") from err
    return str(file)


def samplers_for(model: AudioDiffusionModule, mode: str) -> list[str]:
    """The samplers the model's process serves and the mode accepts."""
    allowed = MODE_SAMPLERS.get(mode)
    return [name for name in model.process.samplers if allowed is None or name in allowed]


def check_request(request: Request, model: AudioDiffusionModule) -> None:
    if request.mode not in MODES:
        raise ValueError(f"unknown mode {request.mode!r}; one of {', '.join(MODES)}")
    if not 1 <= request.clips <= MAX_CLIPS or not 1 <= request.steps <= MAX_STEPS:
        raise ValueError(f"clips must be 1..{MAX_CLIPS} and steps 1..{MAX_STEPS}")
    if request.sampler and request.sampler not in samplers_for(model, request.mode):
        raise ValueError(f"sampler {request.sampler} does not run mode {request.mode} on this model; "
                         f"choose one of {', '.join(samplers_for(model, request.mode))}")
    if request.label not in (None, "all", ANY_LABEL):
        model.label_ids([request.label])  # an unknown label lists the known ones
    labels = len(model.labels) if request.label == "all" else 1
    if request.clips * labels > MAX_CLIPS:
        raise ValueError(f"{request.clips} clips x {labels} labels is over the {MAX_CLIPS} clips of a batch")
    if request.mode != "sample" and request.mode != "continue":
        check_upload(request.init_audio, "an input clip")
    if request.mode == "interpolate":
        check_upload(request.init_audio2, "a second clip")


def generate_args(request: Request, ckpt: str, out_dir: Path, label: str | None, seed: int,
                  num_samples: int) -> GenerateArgs:
    return GenerateArgs(
        ckpt=ckpt, num_samples=num_samples, steps=request.steps, seed=seed, batch_size=num_samples,
        out_dir=str(out_dir), device="auto", sampler=request.sampler or None, mode=request.mode,
        init_audio=request.init_audio or None, init_audio2=request.init_audio2 or None, strength=request.strength,
        keep=parse_keep(request.keep) if request.mode == "inpaint" else None, segments=request.segments,
        overlap=request.overlap, loop=request.loop, label=label, cfg_scale=request.cfg_scale)


class Studio:
    """Holds the loaded model (one at a time) and runs batches into `work_dir/batch_NNNN/`."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = Path(work_dir)
        self.loaded: tuple[str, AudioDiffusionModule, dict] | None = None

    def model(self, ckpt: str) -> AudioDiffusionModule:
        if self.loaded is None or self.loaded[0] != ckpt:
            model, config = load_model(ckpt, "cuda" if torch.cuda.is_available() else "cpu")
            self.loaded = (ckpt, model, config)
        return self.loaded[1]

    def new_folder(self) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        taken = [int(p.name[len("batch_"):]) for p in self.work_dir.glob("batch_*")
                 if p.is_dir() and p.name[len("batch_"):].isdigit()]
        number = 1 + max(taken, default=0)
        folder = self.work_dir / f"batch_{number:04d}"
        folder.mkdir()
        return folder

    def run(self, ckpt: str, request: Request, stop: threading.Event | None = None) -> Iterator[Batch]:
        """Yields the batch before its first clip and after every clip: its folder, the clips so far and
        how many there will be. Once `stop` is set it makes no further clip, and the manifest says the
        batch was cancelled."""
        model = self.model(ckpt)
        check_request(request, model)
        batch = Batch(self.new_folder())
        labels = list(model.labels) if request.label == "all" else [request.label]
        # interpolation makes its clips as one path; other modes one clip per call, seeds seed, seed + 1, ...
        jobs = [(label, request.seed + i, 1) for label in labels for i in range(request.clips)]
        if request.mode == "interpolate":
            jobs = [(label, request.seed, max(2, request.clips)) for label in labels]
        batch.total = sum(count for _, _, count in jobs)
        yield batch
        manifests = []
        for index, (label, seed, count) in enumerate(jobs):
            if stop is not None and stop.is_set():
                batch.cancelled = True
                break
            out = batch.folder / f"part_{index:03d}"
            generate(generate_args(request, ckpt, out, label, seed, count), (model, self.loaded[2]))
            manifest = json.loads((out / "manifest.json").read_text())
            manifests.append(manifest)
            for name, made_as in zip(manifest["files"], manifest["sampling"]["labels"]):  # label=any: the drawn label
                batch.clips.append(Clip(out / name, out / name.replace(".wav", ".png"), made_as, seed))
            yield batch
        write_batch_manifest(batch, ckpt, request, manifests)


def write_batch_manifest(batch: Batch, ckpt: str, request: Request, manifests: list[dict]) -> None:
    """The batch's parameters and, per part, generate.py's own manifest (every parameter of the clips)."""
    record = {"checkpoint": ckpt, "request": asdict(request), "cancelled": batch.cancelled, "parts": manifests,
              "clips": [{"file": str(c.wav.relative_to(batch.folder)), "label": c.label, "seed": c.seed}
                        for c in batch.clips]}
    (batch.folder / "manifest.json").write_text(json.dumps(record, indent=2))


def zip_batch(folder: Path) -> Path:
    """`folder`.zip holding every clip, spectrogram and manifest of a batch."""
    path = folder.with_suffix(".zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return path
