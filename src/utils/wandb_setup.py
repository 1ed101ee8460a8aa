"""Decide whether W&B can log online, so that a missing key or network never stops training."""

from __future__ import annotations

import logging
import netrc
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)

OFFLINE_MODES = {"offline", "disabled", "dryrun"}


def has_api_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        auth = netrc.netrc(str(Path.home() / ".netrc")).authenticators(_host())
    except (FileNotFoundError, netrc.NetrcParseError):
        return False
    return auth is not None


def _host() -> str:
    return urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname or "api.wandb.ai"


def reachable(host: str, timeout_s: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def wandb_mode() -> str:
    """`online`, or `offline`/`disabled` when asked for or when online logging cannot work."""
    requested = os.environ.get("WANDB_MODE", "").lower()
    if not requested:
        os.environ.pop("WANDB_MODE", None)  # an empty value fails wandb's own settings check
    if requested in OFFLINE_MODES:
        return requested
    if not has_api_key():
        reason = "no W&B API key (set WANDB_API_KEY in .env or run `wandb login`)"
    elif not reachable(_host()):
        reason = f"{_host()} is unreachable"
    else:
        return "online"
    log.warning("W&B logs offline: %s. Upload later with `wandb sync <run dir>/wandb/offline-run-*`.", reason)
    return "offline"
