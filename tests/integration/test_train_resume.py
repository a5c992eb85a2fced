"""Kill-and-resume: SIGKILL a training subprocess after a checkpoint, restart, compare."""

import json
import os
import runpy
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import torch

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    import torch
    torch.set_num_threads(1)
    from xstilts.bench_training import synthetic_pairs, tiny_model_factory
    from xstilts.features import featurize
    from xstilts.heads import MultiTaskModel
    from xstilts.predict import predict, references
    from xstilts.train import TrainConfig, train
    from xstilts.xtreme import NLI_LABELS, TaskSpec

    run_dir, out = sys.argv[1], sys.argv[2]
    spec = TaskSpec("nli", "classification", "intermediate", "accuracy", labels=NLI_LABELS)
    mlm = TaskSpec("mlm", "mlm", "auxiliary", "perplexity")
    rows = [{"id": str(i), "lang": "en", "text_a": a, "text_b": b, "label": NLI_LABELS[len(a) % 3]}
            for i, (a, b) in enumerate(synthetic_pairs(120, 0))]
    text = [{"id": str(i), "lang": "en", "text": a} for i, (a, _) in enumerate(synthetic_pairs(60, 1))]
    torch.manual_seed(0)
    enc, tok = tiny_model_factory(hidden_size=16, intermediate_size=32)
    model = MultiTaskModel(enc, {"nli": spec, "mlm": mlm}, tokenizer=tok)
    sets = {"nli": featurize(rows, spec, tok, 64, progress=False),
            "mlm": featurize(text, mlm, tok, 64, progress=False)}

    def evaluate(m, task, lang, dev):
        pred = predict(m, spec, dev, tok, batch_size=16, max_seq_len=64)
        return sum(p == r for p, r in zip(pred, references(spec, dev))) / len(dev)

    delay = float(os.environ.get("STEP_DELAY", "0"))
    go = os.environ.get("WAIT_FOR")
    while go and not os.path.exists(go):  # imports done; start training on signal
        time.sleep(0.02)
    cfg = TrainConfig(lr=5e-4, epochs=1, batch_size=4, checkpoint_every=5, eval_every=10,
                      seed=3, progress=False, log_every=0)
    res = train(model, sets, {"nli": {"en": rows[:40], "fr": rows[40:60]}}, cfg, run_dir, evaluate,
                on_step=lambda s: time.sleep(delay))
    final = evaluate(model, "nli", "en", rows[60:])
    json.dump({"result": res.to_dict(), "final": final}, open(out, "w"))
    """
)


def _run(script, run_dir, out, env=None):
    return subprocess.Popen(
        [sys.executable, str(script), str(run_dir), str(out)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _run_here(script, run_dir, out):
    threads, argv = torch.get_num_threads(), sys.argv
    sys.argv = [str(script), str(run_dir), str(out)]
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
        torch.set_num_threads(threads)


def _checkpoint_step(run_dir: Path):
    state = run_dir / "checkpoint" / "trainer_state.json"
    try:
        return json.loads(state.read_text())["step"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None


def test_sigkill_and_resume_matches_uninterrupted(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    # Both subprocesses start at once so their slow imports overlap: the run to be
    # killed, and the restart, which waits for a go file. The uninterrupted reference
    # runs in this process meanwhile (same script, same thread count).
    go = tmp_path / "go"
    victim = _run(script, tmp_path / "run", tmp_path / "killed.json", {"STEP_DELAY": "0.25"})
    resumed = _run(script, tmp_path / "run", tmp_path / "resumed.json", {"WAIT_FOR": str(go)})
    _run_here(script, tmp_path / "ref", tmp_path / "ref.json")
    deadline = time.time() + 55
    step = None
    while time.time() < deadline:
        step = _checkpoint_step(tmp_path / "run")
        if step is not None and step >= 10:
            break
        assert victim.poll() is None, victim.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert step is not None and 10 <= step < 40, step
    assert not (tmp_path / "killed.json").exists()

    go.touch()
    assert resumed.wait(timeout=60) == 0, resumed.stderr.read().decode()[-2000:]
    a = json.loads((tmp_path / "ref.json").read_text())
    b = json.loads((tmp_path / "resumed.json").read_text())
    assert a["result"]["steps"] == b["result"]["steps"] >= 40
    assert b["result"]["loss_trace"] == a["result"]["loss_trace"]
    assert b["result"]["dev_curves"] == a["result"]["dev_curves"]
    assert (b["result"]["best_step"], b["result"]["best_dev"]) == (
        a["result"]["best_step"],
        a["result"]["best_dev"],
    )
    assert b["final"] == a["final"]
