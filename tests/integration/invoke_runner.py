"""Run the task runner (``python -m invoke``) in a subprocess on an isolated store.

The run store and the paper output go under a test folder, so tests never touch the
user's ``runs/`` or ``paper/``.
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
