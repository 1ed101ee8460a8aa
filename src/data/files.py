"""Finding data files in a folder."""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from src.utils.gc_pause import gc_paused

log = logging.getLogger(__name__)


def list_files(root: str | Path, extensions: Sequence[str], kind: str) -> list[Path]:
    """Every file under `root` (recursively, sorted) whose suffix is one of `extensions`.

    A missing folder or one without such files is a FileNotFoundError naming the folder;
    `kind` ("audio", "mel image") makes the message say what was looked for."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{kind} folder not found: {root} (set datamodule.dataset.path)")
    # os.walk reads each folder once and knows its entries' types without a stat per file: on a
    # library of 100,000 samples listing is then a small part of a start
    with gc_paused():
        every = [os.path.join(folder, name) for folder, _, names in os.walk(root, followlinks=True) for name in names]
        suffixes = [os.path.splitext(name)[1].lower() for name in every]
        files = [Path(name) for name in sorted(n for n, suffix in zip(every, suffixes) if suffix in extensions)]
    ignored = Counter(suffix or "(no extension)" for suffix in suffixes if suffix not in extensions)
    if ignored:
        counts = ", ".join(f"{suffix} {n}" for suffix, n in sorted(ignored.items(), key=lambda item: (-item[1], item[0])))
        log.info("%s: ignored %d files that are not %s files: %s", root, sum(ignored.values()), kind, counts)
    if not files:
        raise FileNotFoundError(f"no {kind} files ({', '.join(extensions)}) found under {root}")
    return files


def read_jsonl(path: Path) -> list[tuple[int, object]]:
    """(line number, value) for every non-blank line of a JSON-lines file; a line that is not JSON
    is a ValueError naming the file and the line."""
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number}: not a JSON object ({err.msg})") from err
    return rows
