"""Finding data files in a folder."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def list_files(root: str | Path, extensions: Sequence[str], kind: str) -> list[Path]:
    """Every file under `root` (recursively, sorted) whose suffix is one of `extensions`.

    A missing folder or one without such files is a FileNotFoundError naming the folder;
    `kind` ("audio", "mel image") makes the message say what was looked for."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{kind} folder not found: {root} (set datamodule.dataset.path)")
    every = [p for p in root.rglob("*") if p.is_file()]
    files = sorted(p for p in every if p.suffix.lower() in extensions)
    ignored = Counter(p.suffix.lower() or "(no extension)" for p in every if p.suffix.lower() not in extensions)
    if ignored:
        counts = ", ".join(f"{suffix} {n}" for suffix, n in sorted(ignored.items(), key=lambda item: (-item[1], item[0])))
        log.info("%s: ignored %d files that are not %s files: %s", root, sum(ignored.values()), kind, counts)
    if not files:
        raise FileNotFoundError(f"no {kind} files ({', '.join(extensions)}) found under {root}")
    return files
