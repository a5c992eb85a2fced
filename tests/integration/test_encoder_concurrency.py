"""Parallel workers converting the same mini-encoder rung from a cold cache.

Regression test of the first-run failure of ``make reproduce`` with two workers: both saw an
incomplete folder, both converted, and the second removed the folder the first was loading.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xstilts import paths

# Each worker: wait at a barrier file so all start together, convert-or-load the L3 rung,
# load it the way the notebooks do, and report what it saw.
WORKER = """
import json, os, sys, time
barrier = sys.argv[1]
while not os.path.exists(barrier):
    time.sleep(0.01)
from xstilts.models.encoder import load_encoder
model, tok = load_encoder("mini-e5-L3")
n = sum(p.numel() for p in model.parameters())
print(json.dumps({"layers": model.config.num_hidden_layers, "params": n,
                  "vocab": len(tok)}))
"""


@pytest.mark.slow  # 30 s alone, 90 s on a loaded 2-core machine; .ci/run runs it
def test_four_processes_convert_one_rung_once(tmp_path):
    cache = tmp_path / "cold-cache"  # empty: the path a new user takes
    barrier = tmp_path / "go"
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(cache),
        "PYTHONPATH": str(paths.ROOT / "lib"),
        "OMP_NUM_THREADS": "1",
    }
    env.pop("XSTILTS_CACHE", None)  # the default location under XDG_CACHE_HOME
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(barrier)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    barrier.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    # 3 blocks of 1,774,464 + embeddings (250037 + 512 + 2) * 384 + embedding LayerNorm.
    expected = 3 * 1_774_464 + (250037 + 512 + 2) * 384 + 768
    assert results == [{"layers": 3, "params": expected, "vocab": 250002}] * 4
    models = cache / "xstilts" / "models"
    log = (models / "conversions.log").read_text().splitlines()
    assert [line.split()[0] for line in log] == ["multilingual-e5-small-L3"]  # exactly one
    assert not [p for p in models.iterdir() if p.name.endswith(".tmp")]  # no half-written copy


def test_lock_serialises_builders(tmp_path, monkeypatch):
    """In-process check of the protocol: a complete folder is never built again."""
    from xstilts.models import mini_encoder as me

    monkeypatch.setenv("XSTILTS_CACHE", str(tmp_path))
    calls: list[Path] = []

    def fake_build(out: Path) -> None:
        calls.append(out)
        out.mkdir(parents=True)
        (out / "model.safetensors").write_bytes(b"x")
        (out / me.INFO_FILE).write_text("{}")

    folder = tmp_path / "models" / "m"
    assert me.ensure_built(folder, fake_build) == folder
    assert me.ensure_built(folder, fake_build) == folder
    assert calls == [folder]
    assert (tmp_path / "models" / me.CONVERSION_LOG).read_text().split()[0] == "m"
