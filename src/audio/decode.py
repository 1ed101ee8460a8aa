"""Decoding audio files into NumPy arrays with soundfile, and what counts as an unusable file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

# File extensions of each libsndfile container (headerless RAW is left out: it has no rate to read).
FORMAT_EXTENSIONS = {
    "WAV": (".wav", ".wave"), "WAVEX": (".wav",), "AIFF": (".aif", ".aiff", ".aifc"), "AU": (".au", ".snd"),
    "FLAC": (".flac",), "OGG": (".ogg", ".oga", ".opus"), "MP3": (".mp3",), "W64": (".w64",),
    "RF64": (".rf64",), "CAF": (".caf",), "SD2": (".sd2",), "IRCAM": (".sf", ".ircam"), "VOC": (".voc",),
    "SVX": (".iff", ".svx", ".8svx"), "NIST": (".nist", ".sph"), "PAF": (".paf", ".fap"), "AVR": (".avr",),
    "HTK": (".htk",), "SDS": (".sds",), "MPC2K": (".mpc2k",), "XI": (".xi",), "WVE": (".wve",),
    "PVF": (".pvf",), "MAT4": (".mat4",), "MAT5": (".mat5",),
}
# Every extension the installed libsndfile reads, found from the formats it reports.
AUDIO_EXTENSIONS = tuple(sorted({ext for name in sf.available_formats() for ext in FORMAT_EXTENSIONS.get(name, ())}))


class AudioDecodeError(ValueError):
    """A file that cannot be used as training audio; the message names the file."""


def read_samples(path: str | Path, start: int = 0, frames: int = -1) -> tuple[np.ndarray, int]:
    """Decode `frames` frames from `start` as float32 (time, channels) plus the file's rate.

    Raises AudioDecodeError for undecodable, empty or non-finite audio."""
    path = Path(path)
    try:
        data, rate = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile raises several types; all mean "unusable file"
        raise AudioDecodeError(f"{path}: cannot decode ({err})") from err
    if data.size == 0:
        raise AudioDecodeError(f"{path}: holds no audio frames")
    if not np.isfinite(data).all():
        raise AudioDecodeError(f"{path}: holds NaN or infinite samples")
    return data, int(rate)


def audio_info(path: str | Path) -> tuple[int, int, int]:
    """(frames, sample_rate, channels) from the header alone; AudioDecodeError if unreadable or empty."""
    try:
        info = sf.info(str(path))
    except Exception as err:  # see read_audio
        raise AudioDecodeError(f"{path}: cannot decode ({err})") from err
    if info.frames <= 0:
        raise AudioDecodeError(f"{path}: holds no audio frames")
    return int(info.frames), int(info.samplerate), int(info.channels)
