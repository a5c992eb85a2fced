"""The smoke profile end to end through the task runner: notebooks, HTML, index, PDF.

Then a second `reproduce` re-runs nothing and says so per step.
"""

import os
import shutil
import subprocess
import sys

import pytest

from xstilts import paths


@pytest.fixture()
def env(tmp_path):
    return {**os.environ, "XSTILTS_RUNS": str(tmp_path / "runs")}


def _invoke(args, env):
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=paths.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="run scripts/setup-system.sh")
def test_smoke_reproduce_then_nothing_to_do(env, tmp_path):
    first = _invoke(["reproduce", "--profile", "smoke"], env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    lines = [
        ln
        for ln in first.stdout.splitlines()
        if ln.split()[:1]
        and ln.split()[0] in ("data", "intermediate", "target", "analysis", "report", "paper")
    ]
    assert len(lines) == 9 and all(" ran " in ln for ln in lines), first.stdout
    runs = tmp_path / "runs"
    for phase in ("data", "intermediate", "target", "analysis"):
        for d in (runs / phase).iterdir():
            for f in ("params.yaml", "metrics.json", "notebook.ipynb", "report.html", "DONE"):
                assert (d / f).exists(), d / f
    assert (runs / "report" / "index.html").exists()
    assert (paths.PAPER_BUILD / "paper.pdf").exists()
    second = _invoke(["reproduce", "--profile", "smoke"], env)
    assert second.returncode == 0
    lines = [ln for ln in second.stdout.splitlines() if " skipped " in ln]
    assert len(lines) == 9, second.stdout
    assert "ran " not in second.stdout.replace("ran  ", "")  # no step ran
    status = _invoke(["status", "--profile", "smoke"], env)
    assert "done: 7" in status.stdout
