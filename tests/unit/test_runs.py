"""Run store: atomic writes, run ids, states."""

import json
import os

import pytest

from xstilts import codehash, io, paths, runs


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def _run(value=1, deps=()):
    nb = paths.FIXTURES / "notebooks" / "counter.ipynb"
    return runs.Run("target", {"model": "m", "seed": 0}, {"value": value}, nb, deps=list(deps))


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    io.atomic_write_json(target, {"a": 1})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        io.atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temp file left


def test_run_id_is_content_addressed(store):
    a, b, c = _run(1), _run(1), _run(2)
    assert a.run_id == b.run_id != c.run_id
    assert a.run_id.startswith("m_0-")
    down1, down2 = _run(5, deps=[a]), _run(5, deps=[c])
    assert down1.run_id != down2.run_id  # upstream change propagates


def test_states_and_reasons(store):
    r = _run(1)
    assert runs.state(r) == ("pending", "never run")
    runs.prepare(r)
    assert runs.state(r)[0] == "partial"
    assert runs.describe_resume(r.dir) == "fresh run: no checkpoint found"
    io.atomic_write_json(r.dir / "checkpoint" / "trainer_state.json", {"step": 7})  # the trainer's
    assert runs.describe_resume(r.dir) == "resuming from checkpoint at step 7"
    runs.write_metrics(r.dir, {"x": 1})
    runs.mark_done(r.dir, 1.0, resumed=False)
    assert runs.state(r)[0] == "done"
    assert runs.describe_resume(r.dir).startswith("finished already")
    changed = _run(2)
    st, why = runs.state(changed)
    assert st == "stale" and why.endswith("params")
    failed = _run(3)
    runs.prepare(failed)
    runs.mark_failed(failed.dir, "ValueError: bad", None)
    assert runs.state(failed) == ("failed", "ValueError: bad")


def test_params_yaml_written(store):
    r = _run(7)
    d = runs.prepare(r)
    text = (d / "params.yaml").read_text()
    assert "value: 7" in text and f"run_id: {r.run_id}" in text
    fingerprint = io.read_json(d / "fingerprint.json")
    assert fingerprint["code"] == codehash.code_version(r.notebook.resolve())


def test_orphan_temp_files_of_dead_writers_are_removed(tmp_path):
    import os
    import subprocess
    import sys

    from xstilts import io

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    orphan = tmp_path / "sub" / f".metrics.json.{dead}~abc123.tmp"
    live = tmp_path / f".params.yaml.{os.getpid()}~def456.tmp"
    foreign = tmp_path / ".notes.tmp"  # not ours (no pid): left alone
    for p in (orphan, live, foreign):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("half")
    io.atomic_write_json(tmp_path / "metrics.json", {"a": 1})  # leaves no temp file itself
    assert io.remove_orphan_temp_files(tmp_path) == 1
    assert not orphan.exists() and live.exists() and foreign.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(
        [live.name, foreign.name, "metrics.json"]
    )


def test_scratch_folders_go_only_once_the_run_is_done(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path))
    from xstilts import paths, runs

    run = runs.Run("target", {"task": "x"}, {"a": 1}, paths.NOTEBOOKS / "20_target.ipynb",
                   scratch=("checkpoint", "best"))  # fmt: skip
    d = runs.prepare(run)
    for name in ("checkpoint", "best", "encoder"):
        (d / name).mkdir()
        (d / name / "model.safetensors").write_bytes(b"x")
    runs.tidy([run])  # unfinished: it resumes from its checkpoint
    assert (d / "checkpoint").exists() and (d / "best").exists()
    runs.mark_done(d, 1.0, False)
    runs.tidy([run])
    assert not (d / "checkpoint").exists() and not (d / "best").exists()
    assert (d / "encoder" / "model.safetensors").exists()  # not scratch: kept
