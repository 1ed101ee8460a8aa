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
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import astuple
from functools import partial
from pathlib import Path

from pytorch_lightning.utilities.rank_zero import rank_zero_only

from src.data.file_probe import FileFacts
from src.utils.gc_pause import gc_paused

log = logging.getLogger(__name__)

INDEX_VERSION = 2
FIELDS = tuple(FileFacts.__dataclass_fields__)  # stored as one list per file: quicker to parse than dicts


Probe = Callable[[Path, bool], FileFacts]  # (path, decode every sample?) -> facts


def index_path(cache_dir: str | Path, root: Path) -> Path:
    """One index file per data folder, named by a hash of the folder's absolute path."""
    key = hashlib.sha1(str(root.expanduser().resolve()).encode()).hexdigest()[:16]
    return Path(cache_dir).expanduser() / "file_index" / f"{root.name or 'root'}-{key}.json"


def load_index(path: Path) -> dict[str, list]:
    """The stored facts (lists in FIELDS order) by path relative to the folder; empty when absent,
    unreadable or of another version."""
    if not path.is_file():
        return {}
    try:
        with gc_paused():
            stored = json.loads(path.read_text())
        if stored.get("version") != INDEX_VERSION or stored.get("fields") != list(FIELDS):
            return {}
        return dict(stored["files"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
        log.warning("file index %s is unreadable (%s); checking every file again", path, err)
        return {}


def save_index(path: Path, facts: dict[str, FileFacts]) -> None:
    """Write the index from rank 0 only, atomically, so a reader never sees half a file."""
    if rank_zero_only.rank != 0:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".tmp{os.getpid()}")
        partial.write_text(json.dumps({"version": INDEX_VERSION, "fields": list(FIELDS),
                                       "files": {name: astuple(f) for name, f in facts.items()}}))
        os.replace(partial, path)
    except OSError as err:  # a read-only cache costs the next start time, never this run
        log.warning("could not write the file index %s (%s); the next start checks every file again", path, err)


def still_valid(cached: list | None, size: int, mtime_ns: int, full: bool) -> FileFacts | None:
    """The cached check, when it holds for an unchanged, readable file checked at least as deeply."""
    if cached is None or len(cached) != len(FIELDS):
        return None
    facts = FileFacts(*cached)
    if facts.error is not None:
        return None  # failed files are looked at again: they may have been fixed in place
    if (facts.size, facts.mtime_ns) != (size, mtime_ns) or (full and facts.peak is None):
        return None
    return facts


PROCESSES_FROM = 5000  # files to check; fewer take seconds on one core, less than starting workers


def probe_all(files: list[Path], full: bool, probe: Probe, workers: int) -> list[FileFacts]:
    """`probe` over `files`, in `workers` processes for large folders. Checking a sample file is
    mostly Python work, which threads would serialise (they made it twice as slow on 2 cores,
    benchmarks/README.md, "File index"). Workers are forked: they need nothing but the probe,
    and a fork starts at once, where a fresh interpreter would import torch again."""
    if workers == 1 or len(files) < PROCESSES_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return [probe(file, full) for file in files]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(partial(probe, full=full), files, chunksize=max(1, len(files) // (16 * workers))))


def check_with_index(files: list[Path], root: Path, full: bool, probe: Probe, cache_dir: str | Path | None,
                     workers: int | None = None) -> dict[Path, FileFacts]:
    """Facts for every file: from the index where still valid, else probed (in parallel for large
    folders). The index is then rewritten."""
    path = index_path(cache_dir, root) if cache_dir else None
    cached = load_index(path) if path else {}
    facts: dict[Path, FileFacts] = {}
    stale: list[Path] = []
    with gc_paused():
        names = relative_names(files, root)
        for file, name in zip(files, names):
            try:
                stat = os.stat(file)
            except OSError:  # the probe reports it by name
                stale.append(file)
                continue
            entry = still_valid(cached.get(name), stat.st_size, stat.st_mtime_ns, full)
            if entry is None:
                stale.append(file)
            else:
                facts[file] = entry
    if stale:
        log.info("checking %d of %d files (%s)", len(stale), len(files),
                 "the rest unchanged since the last start" if cached else "no file index yet")
        facts.update(zip(stale, probe_all(stale, full, probe, workers or min(16, os.cpu_count() or 1))))
    if path and (stale or len(cached) != len(files)):
        save_index(path, {name: facts[file] for file, name in zip(files, names)})
    return facts


def relative_names(files: list[Path], root: Path) -> list[str]:
    """Each file's path below `root` with '/' separators (the index's keys)."""
    prefix = len(str(root).rstrip(os.sep)) + 1
    if all(str(file).startswith(str(root)) for file in files):
        return [str(file)[prefix:].replace(os.sep, "/") for file in files]
    return [file.relative_to(root).as_posix() for file in files]
