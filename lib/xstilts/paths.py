"""Every path xstilts uses, in one place.

Notebooks and modules never build paths by string concatenation; they ask here.
Three environment variables move the generated folders out of the repository:

- ``XSTILTS_RUNS``: the run store (default ``<repo>/runs``).
- ``XSTILTS_CACHE``: converted models and downloaded data packages shared across
  clones (default ``~/.cache/xstilts``).
- ``XSTILTS_SCRATCH``: the scratch run store of notebooks run by hand in Jupyter
  (default ``<repo>/runs/_scratch``; ``xstilts.kernel``).
- ``XSTILTS_PAPER_OUT``: where the rendered LaTeX (``generated/``) and the PDF (``build/``)
  go (default ``<repo>/paper``); tests point it elsewhere so they never overwrite a
  user's paper.

One more points at data outside the repository:

- ``XSTILTS_XTREME_REAL``: a folder of real XTREME files in ``download_data.sh`` layout
  (default ``<repo>/../shared/xtreme-real``), read by tests that skip when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # repo root: lib/xstilts/paths.py -> ../..
LIB = ROOT / "lib" / "xstilts"
NOTEBOOKS = ROOT / "notebooks"
PARAMS = ROOT / "params"  # YAML profiles: smoke, mini, full
PAPER = ROOT / "paper"  # LaTeX sources; templates are rendered into paper_generated()
RESOURCES = LIB / "resources"  # data files shipped with the package (published numbers, claims)
TEMPLATES = LIB / "templates"  # jinja2 templates for HTML and LaTeX
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"  # small files in each official data format


def xtreme_real() -> Path:
    """Return the folder of real XTREME files for tests (``XSTILTS_XTREME_REAL``).

    Never part of the repository (licences); the default sits beside the clone, where CI
    keeps its ``shared/`` folder. The folder may be absent: callers check and skip.
    """
    return Path(os.environ.get("XSTILTS_XTREME_REAL", ROOT.parent / "shared" / "xtreme-real"))


def runs_root() -> Path:
    """Return the run store root (``runs/`` unless ``XSTILTS_RUNS`` is set)."""
    return Path(os.environ.get("XSTILTS_RUNS", ROOT / "runs"))


def scratch_root() -> Path:
    """Return the scratch store of notebooks run outside the pipeline (``XSTILTS_SCRATCH``)."""
    return Path(os.environ.get("XSTILTS_SCRATCH", ROOT / "runs" / "_scratch"))


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


def paper_out() -> Path:
    """Return the folder holding ``generated/`` and ``build/`` of the paper."""
    return Path(os.environ.get("XSTILTS_PAPER_OUT", PAPER))


def paper_generated() -> Path:
    """Return the folder of the LaTeX rendered from results (tables, macros, figures)."""
    return paper_out() / "generated"


def paper_build() -> Path:
    """Return the latexmk output folder (``paper.pdf``)."""
    return paper_out() / "build"
