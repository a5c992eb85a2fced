"""Every path xstilts uses, in one place.

Notebooks and modules never build paths by string concatenation; they ask here.
Two environment variables move the heavy folders out of the repository:

- ``XSTILTS_RUNS``: the run store (default ``<repo>/runs``).
- ``XSTILTS_CACHE``: converted models and generated datasets shared across
  clones (default ``~/.cache/xstilts``).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # repo root: lib/xstilts/paths.py -> ../..
LIB = ROOT / "lib" / "xstilts"
NOTEBOOKS = ROOT / "notebooks"
PARAMS = ROOT / "params"  # YAML profiles: smoke, mini, full
PAPER = ROOT / "paper"  # LaTeX sources; templates are rendered into PAPER_GENERATED
PAPER_GENERATED = PAPER / "generated"  # tables/macros/figures rendered from results
PAPER_BUILD = PAPER / "build"  # latexmk output
RESOURCES = LIB / "resources"  # data files shipped with the package (published numbers, claims)
TEMPLATES = LIB / "templates"  # jinja2 templates for HTML and LaTeX
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"  # small files in each official data format


def runs_root() -> Path:
    """Return the run store root (``runs/`` unless ``XSTILTS_RUNS`` is set)."""
    return Path(os.environ.get("XSTILTS_RUNS", ROOT / "runs"))


def cache_root() -> Path:
    """Return the cache for converted models and generated data (``XSTILTS_CACHE``)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "xstilts"
    return Path(os.environ.get("XSTILTS_CACHE", default))


def models_cache() -> Path:
    """Return the folder holding converted Hugging Face checkpoints (the mini encoder ladder)."""
    return cache_root() / "models"


def run_dir(phase: str, run_id: str) -> Path:
    """Return ``runs/<phase>/<run_id>/``, the folder of one run."""
    return runs_root() / phase / run_id


def report_dir() -> Path:
    """Return the folder holding ``index.html`` and the per-phase HTML copies."""
    return runs_root() / "report"
