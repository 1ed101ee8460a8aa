"""A validated index of a data folder's audio files, kept between starts.

Checking a folder means decoding every file once; on 100,000 one-shots that takes minutes at every
start. The index keeps, per file, what the check learned (size, mtime, frames, rate, channels,
peak, or why it could not be read), so a later start only looks again at files that changed or
failed. It lives in a cache folder (`paths.cache_dir`), never in the data folder, which may be
read-only or shared. Only rank 0 writes it, atomically (a temporary file, then a rename)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from functools import partial
from pathlib import Path

from pytorch_lightning.utilities.rank_zero import rank_zero_only

from src.data.file_probe import FileFacts

log = logging.getLogger(__name__)

INDEX_VERSION = 1


Probe = Callable[[Path, bool], FileFacts]  # (path, decode every sample?) -> facts


def index_path(cache_dir: str | Path, root: Path) -> Path:
    """One index file per data folder, named by a hash of the folder's absolute path."""
    key = hashlib.sha1(str(root.expanduser().resolve()).encode()).hexdigest()[:16]
    return Path(cache_dir).expanduser() / "file_index" / f"{root.name or 'root'}-{key}.json"


def load_index(path: Path) -> dict[str, FileFacts]:
    """The stored facts by path relative to the folder; empty when absent, unreadable or stale."""
    if not path.is_file():
        return {}
    try:
        stored = json.loads(path.read_text())
        if stored.get("version") != INDEX_VERSION:
            return {}
        return {name: FileFacts(**facts) for name, facts in stored["files"].items()}
    except (OSError, ValueError, TypeError, KeyError) as err:
        log.warning("file index %s is unreadable (%s); checking every file again", path, err)
        return {}


def save_index(path: Path, facts: dict[str, FileFacts]) -> None:
    """Write the index from rank 0 only, atomically, so a reader never sees half a file."""
    if rank_zero_only.rank != 0:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".tmp{os.getpid()}")
        partial.write_text(json.dumps({"version": INDEX_VERSION,
                                       "files": {name: asdict(f) for name, f in facts.items()}}))
        os.replace(partial, path)
    except OSError as err:  # a read-only cache costs the next start time, never this run
        log.warning("could not write the file index %s (%s); the next start checks every file again", path, err)


def still_valid(cached: FileFacts | None, size: int, mtime_ns: int, full: bool) -> bool:
    """A cached check holds for an unchanged, readable file checked at least as deeply."""
    if cached is None or cached.error is not None:
        return False  # failed files are looked at again: they may have been fixed in place
    if (cached.size, cached.mtime_ns) != (size, mtime_ns):
        return False
    return cached.peak is not None or not full


def probe_all(files: list[Path], full: bool, probe: Probe, workers: int) -> list[FileFacts]:
    """`probe` over `files` on `workers` threads. Waiting on storage (a network share, a cold disk)
    overlaps, and libsndfile releases the GIL while it decodes; checking short files from a warm
    cache is mostly Python work, which threads do not speed up (benchmarks/README.md, "File index")."""
    if workers == 1:
        return [probe(file, full) for file in files]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(partial(probe, full=full), files))


def check_with_index(files: list[Path], root: Path, full: bool, probe: Probe, cache_dir: str | Path | None,
                     workers: int | None = None) -> dict[Path, FileFacts]:
    """Facts for every file: from the index where still valid, else probed in parallel. The index
    is then rewritten."""
    path = index_path(cache_dir, root) if cache_dir else None
    cached = load_index(path) if path else {}
    facts: dict[Path, FileFacts] = {}
    stale: list[Path] = []
    for file in files:
        stat = file.stat()
        entry = cached.get(file.relative_to(root).as_posix())
        if still_valid(entry, stat.st_size, stat.st_mtime_ns, full):
            facts[file] = entry
        else:
            stale.append(file)
    if stale:
        log.info("checking %d of %d files (%s)", len(stale), len(files),
                 "the rest unchanged since the last start" if cached else "no file index yet")
        facts.update(zip(stale, probe_all(stale, full, probe, workers or min(16, os.cpu_count() or 1))))
    if path and (stale or len(cached) != len(files)):
        save_index(path, {file.relative_to(root).as_posix(): facts[file] for file in files})
    return facts
