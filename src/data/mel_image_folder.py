"""A folder of mel-spectrogram PNGs (from audio_to_images or teticio's datasets) as a DataModule source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from src.data.audio_folder import CROP_MODES
from src.data.audio_to_images import METADATA
from src.data.file_dataset import LabelSettings
from src.data.files import read_jsonl
from src.data.mel_images import MelImageDataset, list_image_files


@dataclass
class MelImageFolderSpec(LabelSettings):
    """`path` holds 8-bit grayscale mel images of `height` (= mel bins) x `width` (= frames).

    Items are already in the mel representation's [-1, 1] scale, so the model skips encoding."""

    path: str | None
    height: int
    width: int
    # Accepted so that experiments written for audio folders (which set a crop mode) also run
    # on image folders; images are used whole, so the value is checked but has no effect.
    crop: str = "start"

    def __post_init__(self) -> None:
        if self.crop not in CROP_MODES:
            raise ValueError(f"datamodule.dataset.crop must be one of {CROP_MODES}, got {self.crop!r}")
        if not self.path:
            raise ValueError("datamodule.dataset.path must name a folder of mel images (there is no demo image set; "
                             "use the audio datamodule, or convert audio with `python -m src.data.audio_to_images`)")
        if self.height < 1 or self.width < 1:
            raise ValueError(f"mel image size must be positive, got {self.width}x{self.height}")

    def list_files(self, root: Path) -> list[Path]:
        return list_image_files(root)

    def check_files(self, files: list[Path], root: Path | None = None,
                    cache_dir: str | Path | None = None) -> tuple[list[Path], list[str]]:
        """Header check of every image (quick: no index is kept): unreadable files are reported, not trained on."""
        good, problems = [], []
        for path in files:
            try:
                with Image.open(path) as image:
                    image.verify()
            except (OSError, UnidentifiedImageError) as err:
                problems.append(f"{path}: cannot decode image ({err})")
                continue
            good.append(path)
        return good, problems

    def make_dataset(self, files: list[Path], labels: list[int] | None = None) -> Dataset:
        return MelImageDataset(files, height=self.height, width=self.width, labels=labels)

    def label_keys(self, files: list[Path], root: Path) -> list[str]:
        """What a label is looked up by: the source audio file that audio_to_images' metadata.jsonl
        names for each slice (so a labels file for the audio serves its images), else the image's
        own path below the folder."""
        sources = read_sources(root / METADATA)
        keys = []
        for file in files:
            relative = file.relative_to(root).as_posix()
            keys.append(sources.get(relative, relative))
        return keys


def read_sources(path: Path) -> dict[str, str]:
    """image file name -> source audio path, from an audio_to_images metadata.jsonl (empty if absent)."""
    if not path.is_file():
        return {}
    return {str(record["file_name"]): str(record["source"]) for _, record in read_jsonl(path)
            if isinstance(record, dict) and record.get("file_name") and record.get("source")}
