"""A folder of 8-bit grayscale mel-spectrogram images (ours or teticio's datasets) as
training tensors already in the mel representation's [-1, 1] scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from src.data.file_dataset import FileDataset
from src.data.files import list_files
from src.representations.mel import GREY_MAX

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


class MelImageDecodeError(ValueError):
    """An image file that cannot be read at all; the message names the file."""


def load_mel_png(path: str | Path) -> torch.Tensor:
    """Read an 8-bit grayscale image as an (H, W) float tensor of grey levels in [0, 255].

    Raises MelImageDecodeError for unreadable files, ValueError for other image modes."""
    try:
        with Image.open(path) as img:
            img.load()
            mode, data = img.mode, np.asarray(img)
    except (OSError, SyntaxError, ValueError) as err:  # PIL's ways of saying "corrupt"
        raise MelImageDecodeError(f"{path}: cannot decode image ({err})") from err
    if mode != "L":
        raise ValueError(f"{path}: mel images must be 8-bit grayscale (mode 'L'), got mode {mode!r}")
    return torch.from_numpy(data.astype(np.float32))


def list_image_files(root: str | Path) -> list[Path]:
    """Every .png/.jpg image under `root`, recursively, sorted; a clear error if there are none."""
    return list_files(root, IMAGE_EXTENSIONS, "mel image")


class MelImageDataset(FileDataset):
    """Items are (1, H, W) float tensors in [-1, 1] (grey / 255 * 2 - 1).

    `height` / `width`, when given, are enforced: a file of another size is a settings
    error (ValueError naming it), as is a non-grayscale image. A file that cannot be
    decoded at all is skipped with one warning and the next file is served instead, as
    the audio dataset does. Keys are `index` or `(index, seed)`; the seed is unused but
    accepted so the audio datamodule's sampler works unchanged."""

    skippable = (MelImageDecodeError,)
    kind = "mel image"

    def __init__(self, files: list[Path], height: int | None = None, width: int | None = None,
                 labels: list[int] | None = None) -> None:
        for name, size in (("height", height), ("width", width)):
            if size is not None and size < 1:
                raise ValueError(f"MelImageDataset {name} must be positive, got {size}")
        super().__init__(files, labels)
        self.height = height
        self.width = width

    def load(self, path: Path, seed: int = 0) -> torch.Tensor:
        grey = load_mel_png(path)
        height, width = grey.shape
        if (self.height is not None and height != self.height) or (self.width is not None and width != self.width):
            raise ValueError(
                f"{path}: image is {width}x{height} (WxH), expected "
                f"{self.width or width}x{self.height or height}; convert the audio again at that resolution"
            )
        return (grey * (2.0 / GREY_MAX) - 1.0).unsqueeze(0)
