"""MelImageDataset and list_image_files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from src.data.mel_images import MelImageDataset, list_image_files


def write_grey(path: Path, value: int | np.ndarray, size: tuple[int, int] = (16, 8)) -> Path:
    """An 8-bit grayscale image of `size` (W, H): constant `value` or the given array."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = value if isinstance(value, np.ndarray) else np.full((size[1], size[0]), value, dtype=np.uint8)
    Image.fromarray(data).save(path)
    return path


def test_items_are_scaled_grey_levels(tmp_path: Path) -> None:
    ramp = np.arange(8 * 16, dtype=np.uint8).reshape(8, 16) * 2  # 0 .. 254
    files = [write_grey(tmp_path / name, value) for name, value in (("a.png", 0), ("b.png", 255), ("c.png", ramp))]
    dataset = MelImageDataset(files, height=8, width=16)
    assert len(dataset) == 3
    black, white, ramp_item = dataset[0], dataset[(1, 99)], dataset[2]
    assert black.shape == (1, 8, 16) and black.dtype == torch.float32
    assert torch.all(black == -1) and torch.all(white == 1)
    # Row 0 of the file stays row 0 (lowest mel band), values map grey/255*2-1.
    torch.testing.assert_close(ramp_item[0], torch.from_numpy(ramp).float() / 127.5 - 1)


def test_wrong_size_names_the_file(tmp_path: Path) -> None:
    files = [write_grey(tmp_path / "ok.png", 10), write_grey(tmp_path / "wide.png", 10, size=(32, 8))]
    dataset = MelImageDataset(files, height=8, width=16)
    assert dataset[0].shape == (1, 8, 16)
    with pytest.raises(ValueError, match=r"wide.png.*32x8.*expected 16x8"):
        dataset[1]


def test_wrong_mode_names_the_file(tmp_path: Path) -> None:
    Image.new("RGB", (16, 8)).save(tmp_path / "colour.png")
    with pytest.raises(ValueError, match=r"colour.png.*grayscale"):
        MelImageDataset([tmp_path / "colour.png"])[0]


def test_corrupt_image_is_skipped_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    good = write_grey(tmp_path / "good.png", 255)
    dataset = MelImageDataset([bad, good])
    with caplog.at_level(logging.WARNING):
        first, again = dataset[0], dataset[0]
    assert torch.all(first == 1) and torch.all(again == 1)  # served the next file instead
    warnings = [r for r in caplog.records if "bad.png" in r.getMessage()]
    assert len(warnings) == 1


def test_all_corrupt_raises(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    with pytest.raises(RuntimeError, match="every mel image"):
        MelImageDataset([bad])[0]


def test_list_image_files_recursive(tmp_path: Path) -> None:
    write_grey(tmp_path / "x" / "b.png", 1)
    write_grey(tmp_path / "a.jpg", 1)
    (tmp_path / "notes.txt").write_text("not an image")
    assert list_image_files(tmp_path) == [tmp_path / "a.jpg", tmp_path / "x" / "b.png"]


def test_list_image_files_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        list_image_files(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        list_image_files(tmp_path / "empty")


def test_empty_dataset_and_bad_sizes_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        MelImageDataset([])
    with pytest.raises(ValueError, match="height"):
        MelImageDataset([tmp_path / "a.png"], height=0)
