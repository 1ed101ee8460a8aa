"""Saves and restores every RNG stream in checkpoints, so a resumed run draws the same noise."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch


def _numpy_state_to_plain(state: tuple) -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = state
    return {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def _numpy_state_from_plain(state: dict[str, Any]) -> tuple:
    keys = state["keys"].numpy().astype(np.uint32)
    return state["name"], keys, state["pos"], state["has_gauss"], state["cached"]


class RNGStateCheckpoint(pl.Callback):
    """Lightning restores weights, optimizer and loops but not the random streams; this does."""

    def state_dict(self) -> dict[str, Any]:
        state = {
            "python": random.getstate(),
            # Plain tensors and numbers only: checkpoints load with torch.load(weights_only=True).
            "numpy": _numpy_state_to_plain(np.random.get_state()),
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        random.setstate(state_dict["python"])
        np.random.set_state(_numpy_state_from_plain(state_dict["numpy"]))
        torch.set_rng_state(state_dict["torch"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
