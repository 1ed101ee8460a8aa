"""Class labels for the files of a data folder, and the label vocabulary.

`datamodule.dataset.labels` says where labels come from:
- `none`: no labels;
- `folder`: the first-level subfolder (`kick/`, `snare/`, `hihat/`);
- `name:<regex>`: the first group of a regular expression searched in the file name, for flat
  folders (`name:^([a-z]+)` gives `kick` for `kick1.wav` and `snare` for `snare_03.wav`);
- a path to a CSV (`file,label` header) or JSONL (`{"file": ..., "label": ...}` per line) file,
  with paths relative to the data folder.

A label is found from a file's *key*: its path relative to the data folder, or, for a folder of mel
images made by audio_to_images, the source audio file that `metadata.jsonl` names, so one labels
file serves the audio and its images. Files without a label follow `datamodule.dataset.unlabeled`: `error`
stops with their names, `unlabeled` trains them as a class of that name."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from src.data.files import read_jsonl

UNLABELED = "unlabeled"
POLICIES = ("error", UNLABELED)
NO_LABELS = (None, "", "none", "null")
SHOWN = 5  # files named in an error before "and N more"


@dataclass(frozen=True)
class Vocabulary:
    """The sorted label names; a label's index is its class id."""

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.names or len(set(self.names)) != len(self.names):
            raise ValueError(f"a label vocabulary needs distinct names, got {list(self.names)}")

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"unknown label {name!r}; the known labels are: {', '.join(self.names)}")
        return self.names.index(name)


Labeler = Callable[[str], "str | None"]


def make_labeler(source: str | None, root: Path) -> Labeler | None:
    """key -> label (None when the file has none) for a `datamodule.dataset.labels` value; None for no labels."""
    if source in NO_LABELS:
        return None
    source = str(source)
    if source == "folder":
        return lambda key: PurePosixPath(key).parts[0] if len(PurePosixPath(key).parts) > 1 else None
    if source.startswith("name:"):
        return _name_labeler(source[len("name:"):])
    table = read_label_table(_table_path(source, root))
    return lambda key: table.get(_normal(key))


def _name_labeler(expression: str) -> Labeler:
    try:
        pattern = re.compile(expression)
    except re.error as err:
        raise ValueError(f"datamodule.dataset.labels=name:{expression}: not a regular expression ({err})") from err
    if pattern.groups < 1:
        raise ValueError(f"datamodule.dataset.labels=name:{expression}: the expression needs a group, "
                         "whose match is the label, e.g. name:^([a-z]+)")

    def label(key: str) -> str | None:
        found = pattern.search(PurePosixPath(key).name)
        return found.group(1) if found and found.group(1) else None

    return label


def _table_path(source: str, root: Path) -> Path:
    path = Path(source).expanduser()
    for candidate in (path, root / path):
        if candidate.is_file():
            return candidate
    raise ValueError(f"datamodule.dataset.labels={source}: not none, folder or name:<regex>, and no such labels file "
                     f"(looked at {path} and {root / path})")


def _normal(key: str) -> str:
    return PurePosixPath(key.replace("\\", "/")).as_posix().removeprefix("./")


def read_label_table(path: Path) -> dict[str, str]:
    """`file -> label` from a CSV with a `file,label` header or a JSONL of {"file", "label"} objects."""
    if path.suffix.lower() == ".jsonl":
        rows = read_jsonl(path)
    else:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"file", "label"} <= set(reader.fieldnames):
                raise ValueError(f"{path}: a labels CSV needs a 'file,label' header, got {reader.fieldnames}")
            rows = [(number, row) for number, row in enumerate(reader, start=2)]
    table: dict[str, str] = {}
    for number, row in rows:
        if not isinstance(row, dict) or not row.get("file") or not str(row.get("label") or "").strip():
            raise ValueError(f"{path}:{number}: each row needs a file and a label, got {row}")
        table[_normal(str(row["file"]))] = str(row["label"]).strip()
    return table


def assign_labels(keys: list[str], files: list[Path], source: str | None, policy: str,
                  root: Path) -> list[str] | None:
    """One label per file (None when `source` is none). Files without one raise a ValueError naming
    them, or become `unlabeled`, as `policy` says."""
    if policy not in POLICIES:
        raise ValueError(f"datamodule.dataset.unlabeled must be one of {POLICIES}, got {policy!r}")
    labeler = make_labeler(source, root)
    if labeler is None:
        return None
    labels = [labeler(key) for key in keys]
    missing = [file for file, label in zip(files, labels) if not label]
    if len(missing) == len(files):
        raise ValueError(f"none of the {len(files)} files has a label under datamodule.dataset.labels={source} "
                         f"(such as {files[0]}); set datamodule.dataset.labels=none to train without labels, or "
                         "give them labels (folder: one subfolder per class; name:<regex>; a labels file)")
    if missing and policy == "error":
        named = ", ".join(str(file) for file in missing[:SHOWN])
        more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
        raise ValueError(f"{len(missing)} of {len(files)} files have no label under datamodule.dataset.labels={source}: "
                         f"{named}{more}; label them, or set datamodule.dataset.unlabeled=unlabeled to train them as "
                         f"class '{UNLABELED}'")
    return [label or UNLABELED for label in labels]


def describe_counts(vocabulary: Vocabulary, splits: dict[str, list[str]]) -> str:
    """`kick 15 / 2, snare 14 / 2` for splits {"train": [...], "validation": [...]}."""
    counts = {name: Counter(labels) for name, labels in splits.items()}
    per_label = [f"{label} {' / '.join(str(counts[split][label]) for split in splits)}" for label in vocabulary.names]
    return f"{len(vocabulary)} labels ({' / '.join(splits)}): {', '.join(per_label)}"
