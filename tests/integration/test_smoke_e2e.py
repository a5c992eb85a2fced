"""The smoke profile end to end through the task runner: notebooks, HTML, index, PDF.

Then a second `reproduce` re-runs nothing and says so per step.
"""

import shutil

import nbformat
import pytest

from tests.integration.invoke_runner import invoke, isolated_env
from xstilts import paths


@pytest.fixture()
def env(tmp_path):
    return isolated_env(tmp_path)


def _without_progress(line: str) -> str:
    """A step line without its ``[n/total, ~t left]`` prefix."""
    return line.split("] ", 1)[1].lstrip() if line.startswith("[") else line


def _mtime(path):
    return path.stat().st_mtime_ns if path.exists() else None


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="run scripts/setup-system.sh")
def test_smoke_reproduce_then_nothing_to_do(env, tmp_path):
    user_pdf = paths.PAPER / "build" / "paper.pdf"
    before = _mtime(user_pdf)
    first = invoke(["reproduce", "--profile", "smoke"], env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    lines = [
        _without_progress(ln)
        for ln in first.stdout.splitlines()
        if _without_progress(ln).split()[:1]
        and _without_progress(ln).split()[0]
        in ("data", "intermediate", "target", "analysis", "report", "paper")
    ]
    assert len(lines) == 9 and all(" ran " in ln for ln in lines), first.stdout
    counts = [ln.split("]")[0] for ln in first.stdout.splitlines() if ln.startswith("[")]
    assert [c.split(",")[0] for c in counts] == [f"[{i}/7" for i in range(1, 8)]
    assert counts[0].endswith("left") and counts[-1] == "[7/7"  # time left, then none left
    runs = tmp_path / "runs"
    for phase in ("data", "intermediate", "target", "analysis"):
        for d in (runs / phase).iterdir():
            for f in ("params.yaml", "metrics.json", "notebook.ipynb", "report.html", "DONE"):
                assert (d / f).exists(), d / f
            for scratch in ("checkpoint", "best"):  # resume state goes once a run is done
                assert not (d / scratch).exists(), d / scratch
    assert all((d / "encoder" / "config.json").exists() for d in (runs / "intermediate").iterdir())
    for nb_path in runs.glob("*/*/notebook.ipynb"):  # reports a researcher reads: no noise
        cells = [c for c in nbformat.read(nb_path, as_version=4).cells if c.cell_type == "code"]
        outs = [o for c in cells for o in c.get("outputs", [])]
        assert not [o for o in outs if o.get("name") == "stderr"], nb_path
        assert cells[-1].outputs == [], nb_path  # no metrics dict at the end
        if "_xnli-" in nb_path.parent.name:  # trained target: curves + per-language bars
            assert sum("image/png" in o.get("data", {}) for o in outs) == 2, nb_path
    index = (runs / "report" / "index.html").read_text()
    assert "Last pipeline execution:" in index and "7 of 7 runs executed" in index
    assert 'id="acceptance"' in index and "informative" in index  # smoke is not gated
    assert "Kernel is running over TCP" not in first.stderr  # IPC kernels, no port races
    assert (tmp_path / "paper" / "build" / "paper.pdf").exists()
    assert _mtime(user_pdf) == before  # the user's own paper is untouched
    second = invoke(["reproduce", "--profile", "smoke"], env)
    assert second.returncode == 0
    lines = [ln for ln in second.stdout.splitlines() if " skipped " in ln]
    assert len(lines) == 9, second.stdout
    assert "ran " not in second.stdout.replace("ran  ", "")  # no step ran
    status = invoke(["status", "--profile", "smoke"], env)
    assert "done: 7" in status.stdout
