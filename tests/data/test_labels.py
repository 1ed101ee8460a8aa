"""Labels from folders, file names or a table; the vocabulary; files without a label."""

from __future__ import annotations

import json
import logging

import pytest
import torch

from src.data.audio_folder import AudioFolderSpec
from src.data.datamodule import AudioDataModule
from src.data.labels import UNLABELED, Vocabulary, assign_labels, read_label_table
from src.data.mel_image_folder import MelImageFolderSpec
from tests.conftest import write_tone


def datamodule(folder, labels, unlabeled="error", spec=None):
    spec = spec or AudioFolderSpec(path=str(folder), sample_rate=8000, channels=1, length=800)
    spec.labels, spec.unlabeled = labels, unlabeled
    module = AudioDataModule(spec, demo_dir=str(folder), val_fraction=0.25)
    module.setup("fit")
    return module


def names_of(module):
    return {path.name: module.vocabulary.names[index] for path, index in module.labels.items()}


def test_folder_labels_on_the_demo_kit_with_counts_per_split(data_dir, caplog):
    with caplog.at_level(logging.INFO):
        module = datamodule(data_dir / "demo_drums", "folder")
    assert module.vocabulary.names == ("hihat", "kick", "snare")
    assert all(name.startswith(label) for name, label in names_of(module).items())
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("labels from folder"))
    assert "3 labels (train / validation): hihat " in line
    counts = [int(n) for n in line.split(": ", 2)[2].replace(",", "").split() if n.isdigit()]
    assert sum(counts) == 48
    clip, label = module.train_set[0]
    path = module.train_set.files[0]
    assert clip.shape == (1, 800) and label == module.labels[path]
    assert module.vocabulary.names[label] == path.parent.name


def test_name_regex_labels_a_flat_folder(tmp_path):
    for name in ("kick1.wav", "snare_03.wav", "kick_b.wav", "hat-2.wav"):
        write_tone(tmp_path / name, rate=8000, seconds=0.1)
    module = datamodule(tmp_path, "name:^([a-z]+)")
    assert names_of(module) == {"kick1.wav": "kick", "snare_03.wav": "snare", "kick_b.wav": "kick", "hat-2.wav": "hat"}
    with pytest.raises(ValueError, match="needs a group"):
        datamodule(tmp_path, "name:^[a-z]+")


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_labels_table_relative_to_the_folder(tmp_path, kind):
    for name in ("a.wav", "sub/b.wav", "c.wav"):
        write_tone(tmp_path / "audio" / name, rate=8000, seconds=0.1)
    rows = [("a.wav", "kick"), ("sub/b.wav", "snare"), ("./c.wav", "kick")]
    table = tmp_path / f"labels.{kind}"
    if kind == "csv":
        table.write_text("file,label\n" + "".join(f"{f},{label}\n" for f, label in rows))
    else:
        table.write_text("".join(json.dumps({"file": f, "label": label}) + "\n" for f, label in rows))
    module = datamodule(tmp_path / "audio", str(table))
    assert names_of(module) == {"a.wav": "kick", "b.wav": "snare", "c.wav": "kick"}


def test_bad_tables_name_the_file_and_line(tmp_path):
    bad_header = tmp_path / "h.csv"
    bad_header.write_text("path,class\nx.wav,kick\n")
    with pytest.raises(ValueError, match="h.csv: a labels CSV needs a 'file,label' header"):
        read_label_table(bad_header)
    empty_label = tmp_path / "e.csv"
    empty_label.write_text("file,label\nx.wav,kick\ny.wav,\n")
    with pytest.raises(ValueError, match="e.csv:3"):
        read_label_table(empty_label)
    with pytest.raises(ValueError, match="no such labels file"):
        assign_labels(["x.wav"], [tmp_path / "x.wav"], str(tmp_path / "missing.csv"), "error", tmp_path)


def test_files_without_a_label_are_an_error_naming_them_or_a_class(tmp_path):
    for name in ("kick/a.wav", "snare/b.wav", "loose.wav"):
        write_tone(tmp_path / name, rate=8000, seconds=0.1)
    with pytest.raises(ValueError, match=r"1 of 3 files have no label.*loose\.wav.*datamodule\.dataset\.unlabeled=unlabeled"):
        datamodule(tmp_path, "folder")
    module = datamodule(tmp_path, "folder", unlabeled="unlabeled")
    assert names_of(module)["loose.wav"] == UNLABELED and len(module.vocabulary) == 3
    with pytest.raises(ValueError, match="datamodule.dataset.unlabeled"):
        datamodule(tmp_path, "folder", unlabeled="drop")


def test_a_flat_folder_under_folder_labels_says_how_to_train_without_labels(tmp_path):
    write_tone(tmp_path / "a.wav", rate=8000, seconds=0.1)
    write_tone(tmp_path / "b.wav", rate=8000, seconds=0.1)
    with pytest.raises(ValueError, match="none of the 2 files has a label.*datamodule.dataset.labels=none"):
        datamodule(tmp_path, "folder")


def test_no_labels_is_the_default(tmp_path):
    write_tone(tmp_path / "a.wav", rate=8000, seconds=0.1)
    write_tone(tmp_path / "b.wav", rate=8000, seconds=0.1)
    module = datamodule(tmp_path, None)
    assert module.vocabulary is None and module.labels == {}


def test_mel_images_take_the_label_of_their_source_audio(tmp_path):
    """One CSV of audio files labels the images audio_to_images made from them (metadata.jsonl)."""
    from PIL import Image

    images = tmp_path / "images"
    records = []
    for source, slices in (("kick_01.wav", 2), ("loops/snare_02.flac", 1)):
        for index in range(slices):
            name = f"{source.rsplit('.', 1)[0]}/slice_{index:04d}.png"
            (images / name).parent.mkdir(parents=True, exist_ok=True)
            Image.new("L", (16, 16)).save(images / name)
            records.append({"file_name": name, "source": source, "slice": index})
    (images / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    table = tmp_path / "labels.csv"
    table.write_text("file,label\nkick_01.wav,kick\nloops/snare_02.flac,snare\n")
    spec = MelImageFolderSpec(path=str(images), height=16, width=16)
    module = datamodule(images, str(table), spec=spec)
    labels = {path.relative_to(images).as_posix(): module.vocabulary.names[i] for path, i in module.labels.items()}
    assert labels == {"kick_01/slice_0000.png": "kick", "kick_01/slice_0001.png": "kick",
                      "loops/snare_02/slice_0000.png": "snare"}
    image, label = module.train_set[0]
    assert image.shape == (1, 16, 16) and label == module.labels[module.train_set.files[0]]


def test_a_skipped_file_serves_the_next_one_with_its_own_label(tmp_path):
    """A file that turns bad after the scan is replaced by the next one, and so is its label."""
    write_tone(tmp_path / "kick" / "a.wav", rate=8000, seconds=0.1)
    write_tone(tmp_path / "snare" / "b.wav", rate=8000, seconds=0.1)
    (tmp_path / "kick" / "bad.wav").write_bytes(b"RIFF not really a wave file")
    spec = AudioFolderSpec(path=str(tmp_path), sample_rate=8000, channels=1, length=800)
    files = [tmp_path / "kick" / "bad.wav", tmp_path / "snare" / "b.wav", tmp_path / "kick" / "a.wav"]
    dataset = spec.make_dataset(files, labels=[0, 1, 0])
    clip, label = dataset[0]
    assert label == 1 and torch.equal(clip, dataset[1][0])


def test_an_unknown_label_lists_the_known_ones():
    vocabulary = Vocabulary(("hihat", "kick", "snare"))
    assert vocabulary.index("kick") == 1
    with pytest.raises(ValueError, match="unknown label 'tom'; the known labels are: hihat, kick, snare"):
        vocabulary.index("tom")
