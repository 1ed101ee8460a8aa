"""Finding data files in a folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def list_files(root: str | Path, extensions: Sequence[str], kind: str) -> list[Path]:
    """Every file under `root` (recursively, sorted) whose suffix is one of `extensions`.

    A missing folder or one without such files is a FileNotFoundError naming the folder;
    `kind` ("audio", "mel image") makes the message say what was looked for."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{kind} folder not found: {root} (set datamodule.dataset.path)")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in extensions)
    if not files:
        raise FileNotFoundError(f"no {kind} files ({', '.join(extensions)}) found under {root}")
    return files
