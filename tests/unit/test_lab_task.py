"""`invoke lab` opens JupyterLab from the pinned environment on notebooks/."""

from __future__ import annotations

import importlib.metadata

from tests.integration.invoke_runner import invoke, isolated_env
from xstilts import paths


def test_jupyterlab_is_pinned_and_installed():
    pins = dict(
        line.split("==")
        for line in (paths.ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert importlib.metadata.version("jupyterlab") == pins["jupyterlab"]


def test_invoke_lab_starts_jupyterlab_on_the_notebooks(tmp_path):
    proc = invoke(["--dry", "lab", "--no-browser"], isolated_env(tmp_path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "-m jupyterlab" in proc.stdout and f"--ServerApp.root_dir={paths.ROOT}" in proc.stdout
    assert "--LabApp.default_url=/lab/tree/notebooks" in proc.stdout
