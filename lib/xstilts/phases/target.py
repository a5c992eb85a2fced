"""Phase (iii) (``20_target.ipynb``): target-task fine-tuning and zero-shot evaluation.

Trained targets (XNLI, PAWS-X, POS, NER, XQuAD, MLQA, TyDiQA) fine-tune the phase-(ii)
encoder (or the pretrained one for setting ``none``) on English training data with a
freshly initialised head (paper A.2), select the checkpoint on English dev (``xtreme.SELECTION_TASK``),
and score every language's test split zero-shot. BUCC and Tatoeba have no training data:
they embed sentences with the phase-(ii) encoder directly (mean-pooled hidden states of
the retrieval layer, at the model's maximum length); the layer comes from the reference
table (``xtreme.retrieval_layer``) or is chosen per run on the retrieval dev split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from xstilts import metrics, retrieval, runs, xtreme
from xstilts.data import store
from xstilts.features import featurize, with_labels
from xstilts.heads import MultiTaskModel
from xstilts.models.encoder import count_parameters, load_encoder, model_info
from xstilts.phases import common
from xstilts.run_params import TargetRunParams
from xstilts.train import TrainResult, load_best, train


@dataclass
class Setup:
    """Everything ``run`` and ``evaluate`` need."""

    spec: xtreme.TaskSpec
    encoder: object
    tokenizer: object
    encoder_source: str
    device: str
    params: dict
    base_params: dict
    t0: float
    model: MultiTaskModel | None = None
    train_rows: list = field(default_factory=list)
    dev_sets: dict = field(default_factory=dict)
    report_dev: dict = field(default_factory=dict)
    layer: int = 0
    precision: str = "fp32"
    also: dict = field(default_factory=dict)  # task -> (spec, report dev sets)


def encoder_source(p: TargetRunParams) -> str:
    """Folder of the phase-(ii) encoder, or the pretrained model for setting ``none``."""
    if not p.intermediate_dir:
        return p.model
    folder = Path(p.intermediate_dir) / "encoder"
    if not (folder / "config.json").exists():
        m = runs.read_metrics(p.intermediate_dir)
        raise RuntimeError(
            f"upstream intermediate run has no encoder (status {m.get('status')}: "
            f"{m.get('train', {}).get('reason', '')})"
        )
    return str(folder)


def setup(p: TargetRunParams) -> Setup:
    """Load the encoder and, for trained targets, the English training data."""
    t0 = time.time()
    device = common.setup_device(p.device, p.threads)
    spec = xtreme.TARGET_TASKS[p.task]
    source = encoder_source(p)
    encoder, tokenizer = load_encoder(source)
    # On the run's device from the start: BUCC and Tatoeba embed with this encoder directly
    # (trained targets are moved again, with their head, by the trainer).
    encoder.to(device)
    params = count_parameters(encoder)
    # Parameter count of the phase-(i) model (the scale axis), without loading its weights.
    base = params if not p.intermediate_dir else model_info(p.model)["parameters"]
    s = Setup(spec, encoder, tokenizer, source, device, params, base, t0)
    s.layer = p.retrieval_layer
    s.precision = common.check_precision(p.precision, device)
    if not spec.train_task and s.precision == "bf16":
        # Retrieval only embeds: weights cast to bf16 once instead of by autocast at every
        # batch (inference mode keeps no autocast cache). e5-L12, 64 x 16 tokens: 153 ms
        # against 274 ms a forward on 2 cores; hidden states agree to cosine 0.99998.
        import torch

        encoder.to(torch.bfloat16)
    if spec.train_task:
        root = store.dataset_dir(p.data_dir)
        s.train_rows = store.read_split(root, spec.train_task, "train", "en")
        s.spec = with_labels(spec, s.train_rows)
        # Checkpoints are selected on English dev only (jiant/XTREME): the task's own dev
        # split, SQuAD v1.1 dev for XQuAD/MLQA, a held-out part of train for TyDiQA.
        selection = xtreme.SELECTION_TASK[p.task]
        s.dev_sets = {p.task: {"en": store.read_split(root, selection, "dev", "en")}}
        s.report_dev = dev_sets_for_report(root, p.task, p.languages, selection)
        # Targets sharing this fine-tune (MLQA with XQuAD) score with the same head.
        s.also = {
            t: (with_labels(xtreme.TARGET_TASKS[t], s.train_rows),
                dev_sets_for_report(root, t, langs, xtreme.SELECTION_TASK[t]))
            for t, langs in p.also_evaluate.items()
        }  # fmt: skip
        # Heads seeded by the run's seed: the same run gives the same result in any process.
        s.model = MultiTaskModel(
            encoder,
            {p.task: s.spec},
            tokenizer=tokenizer,
            seed=p.seed,
            pooling=p.train.get("pooling", "first"),
        )
    return s


def dev_sets_for_report(root: Path, task: str, languages: list, selection: str) -> dict:
    """``{lang: (source, rows)}``: the dev split scored beside each language's test split.

    English always (the task's own English dev, else the selection set: SQuAD v1.1 dev
    for XQuAD); other languages where the task has a dev split. Real annotated test sets
    (mini) have none: nothing is tuned on them.
    """
    out = {}
    for lang in languages:
        if xtreme.has_dev(task, lang) and store.split_path(root, task, "dev", lang).exists():
            out[lang] = (f"{task}/dev", store.read_split(root, task, "dev", lang))
    if "en" not in out:
        out["en"] = (f"{selection}/dev", store.read_split(root, selection, "dev", "en"))
    return out


def describe(s: Setup) -> None:
    """Print the encoder source and the data sizes."""
    print(f"task {s.spec.name} ({s.spec.kind}); encoder {s.encoder_source}; device {s.device}")
    print(f"precision {s.precision} (training, evaluation and retrieval embeddings)")
    print(f"encoder parameters {s.params}")
    if s.train_rows:
        print(f"English training examples: {len(s.train_rows)} (from {s.spec.train_task})")


def run(s: Setup, p: TargetRunParams) -> TrainResult | None:
    """Fine-tune on English (trained targets); retrieval targets have nothing to train."""
    if not s.spec.train_task:
        return None
    max_len = p.train["max_seq_len"]
    feats = featurize(
        s.train_rows,
        s.spec,
        s.tokenizer,
        max_len,
        cache_dir=Path(p.run_dir) / "features",
        seed=p.seed,
        progress=False,
    )
    cfg = common.train_config(p.train, p.seed, s.device, s.precision, deterministic=p.deterministic)
    evaluate_fn = common.make_evaluate_fn(
        {p.task: s.spec}, s.tokenizer, max_len, precision=s.precision
    )
    result = train(s.model, {p.task: feats}, s.dev_sets, cfg, p.run_dir, evaluate_fn)
    if result.status != "diverged":
        load_best(s.model, p.run_dir)
    return result


LAYER_FROM_DEV = -2  # ModelSpec.retrieval_layer: choose the read-out layer on dev


def _layer_rule(s: Setup, p: TargetRunParams) -> tuple[str, list[int]]:
    """The profile's layer setting as (rule, candidate ``hidden_states`` indices)."""
    n = s.encoder.config.num_hidden_layers
    if s.layer == LAYER_FROM_DEV:
        return "chosen on dev", list(range(1, n + 1))
    rules = {0: ("reference table", xtreme.retrieval_layer(n, p.model)), -1: ("last", n)}
    rule, layer = rules.get(s.layer, ("fixed", s.layer))
    return rule, [layer]


def _choose(rule: str, candidates: list[int], dev_mean: dict[int, float | None]) -> int:
    """Best candidate by mean dev score (ties: the shallower layer); fixed rules keep theirs."""
    if rule != "chosen on dev":
        return candidates[0]
    scored = [k for k in candidates if dev_mean.get(k) is not None]
    if not scored:
        raise ValueError("retrieval_layer -2 needs a dev split of the retrieval task; none found")
    return max(scored, key=lambda k: (dev_mean[k], -k))


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _embed(s: Setup, texts: list[str], layers) -> dict:
    return retrieval.embed_sentences_layers(
        s.encoder,
        s.tokenizer,
        texts,
        layers,
        max_length=retrieval.model_max_length(s.encoder),  # XTREME embeds at 512, not 128
        device=s.device,
        precision=s.precision,
    )


def _tatoeba_split(s: Setup, root: Path, split: str, lang: str, layers) -> dict | None:
    if split == "dev" and not store.split_path(root, "tatoeba", split, lang).exists():
        return None  # the official Tatoeba has no dev split
    rows = store.read_split(root, "tatoeba", split, lang)
    emb = [_embed(s, [r[side] for r in rows], layers) for side in ("src", "trg")]
    scores = {k: retrieval.tatoeba_accuracy(emb[0][k], emb[1][k], device=s.device) for k in layers}
    return scores | {"n": len(rows)}


def evaluate_tatoeba(s: Setup, p: TargetRunParams) -> dict:
    """Tatoeba accuracy per language at the read-out layer, and at every layer.

    English queries retrieve the nearest foreign sentence. One forward pass gives every
    layer, so the accuracy of each ``hidden_states`` index is recorded (``per_layer``) for
    the read-out-depth analysis; the layer itself comes from the profile's rule.
    """
    root = store.dataset_dir(p.data_dir)
    rule, candidates = _layer_rule(s, p)
    layers = list(range(s.encoder.config.num_hidden_layers + 1))
    test = {lang: _tatoeba_split(s, root, "test", lang, layers) for lang in p.languages}
    dev = {lang: _tatoeba_split(s, root, "dev", lang, layers) for lang in p.languages}
    dev = {lang: d for lang, d in dev.items() if d is not None}
    per_layer = {
        k: {
            "test": _mean(test[lang][k] for lang in test),
            "dev": _mean(dev[lang][k] for lang in dev),
        }
        for k in layers
    }
    layer = _choose(rule, candidates, {k: v["dev"] for k, v in per_layer.items()})
    return {
        "per_language": {lang: {"score": t[layer], "n": t["n"]} for lang, t in test.items()},
        "dev_per_language": {lang: {"score": d[layer], "n": d["n"]} for lang, d in dev.items()},
        "retrieval": {"layer": layer, "rule": rule, "per_layer": per_layer},
    }


def _bucc_split(s: Setup, root: Path, split: str, lang: str, layers) -> dict:
    """Mined candidates and gold pairs of one BUCC split, per layer."""
    rows = store.read_split(root, "bucc2018", split, lang)
    gold = {(g["src_id"], g["trg_id"]) for g in store.read_gold(root, "bucc2018", split, lang)}
    sides = {side: [r for r in rows if r["side"] == side] for side in ("src", "trg")}
    emb = {side: _embed(s, [r["text"] for r in sides[side]], layers) for side in sides}
    return {
        k: (
            retrieval.bucc_mine(
                emb["src"][k],
                emb["trg"][k],
                [r["id"] for r in sides["src"]],
                [r["id"] for r in sides["trg"]],
                src_texts=[r["text"] for r in sides["src"]],
                trg_texts=[r["text"] for r in sides["trg"]],
                device=s.device,
            ),
            gold,
        )
        for k in layers
    }


def evaluate_bucc(s: Setup, p: TargetRunParams) -> dict:
    """BUCC F1 per language: threshold (and, with rule -2, layer) tuned on dev, applied to test."""
    root = store.dataset_dir(p.data_dir)
    rule, layers = _layer_rule(s, p)
    scores: dict = {}
    for lang in p.languages:
        dev = _bucc_split(s, root, "dev", lang, layers)
        test = _bucc_split(s, root, "test", lang, layers)
        for k in layers:
            tuned = retrieval.bucc_optimize(*dev[k])
            at = retrieval.bucc_f1_at(*test[k], tuned["threshold"])
            scores.setdefault(k, {})[lang] = (tuned, at)
    per_layer = {
        k: {
            "dev": _mean(t["f1"] for t, _ in by_lang.values()),
            "test": _mean(a["f1"] for _, a in by_lang.values()),
        }
        for k, by_lang in scores.items()
    }
    layer = _choose(rule, layers, {k: v["dev"] for k, v in per_layer.items()})
    chosen = scores[layer]
    return {
        "per_language": {
            lang: {"score": a["f1"], **a, "threshold": t["threshold"], "dev_f1": t["f1"]}
            for lang, (t, a) in chosen.items()
        },
        "dev_per_language": {
            lang: {k: v for k, v in t.items() if k != "threshold"} | {"score": t["f1"]}
            for lang, (t, _) in chosen.items()
        },
        "retrieval": {"layer": layer, "rule": rule, "per_layer": per_layer},
    }


def _score(s: Setup, p: TargetRunParams, rows: list[dict], lang: str, spec=None) -> dict:
    out = common.score_rows(
        s.model,
        spec or s.spec,
        p.task,  # the head this run trained (MLQA is scored with XQuAD's SQuAD head)
        rows,
        s.tokenizer,
        p.train["max_seq_len"],
        lang,
        precision=s.precision,
    )
    return {**out, "n": len(rows)}


def evaluate_trained(s: Setup, p: TargetRunParams, task: str = "") -> dict:
    """Zero-shot test scores per language with XTREME's metric, and the dev scores beside them.

    ``task`` is a target sharing this run's fine-tune (``also_evaluate``); default the run's.
    """
    task = task or p.task
    spec, report_dev = s.also[task] if task != p.task else (s.spec, s.report_dev)
    languages = p.also_evaluate[task] if task != p.task else p.languages
    root, test = store.dataset_dir(p.data_dir), {}
    for lang in languages:
        rows = store.read_split(root, task, "test", lang)
        test[lang] = _score(s, p, rows, lang, spec)
        if rows and rows[0]["id"].startswith(f"{task}-real-"):
            test[lang]["real"] = True  # a real annotated set (data.annotated), reported apart
    dev = {
        lang: {**_score(s, p, rows, lang, spec), "source": source}
        for lang, (source, rows) in report_dev.items()
    }
    return {"per_language": test, "dev_per_language": dev}


EVALUATORS = {"bitext_retrieval": evaluate_tatoeba, "bitext_mining": evaluate_bucc}


def _average(per_lang: dict) -> dict:
    keep = {"n", "source"}
    return metrics.task_average(
        {lang: {k: v for k, v in d.items() if k not in keep} for lang, d in per_lang.items()}
    )


def evaluate(s: Setup, result: TrainResult | None, p: TargetRunParams) -> dict:
    """Per-language test and dev scores and their task averages (English included, as XTREME).

    ``dev_per_language``/``dev_average`` have the shapes of ``per_language``/``average``;
    they are what best-setting choices may look at. Real annotated test sets (mini:
    Turkish POS, Japanese NER) are kept apart in ``real_test_sets``: the average stays
    over the parallel mini-XTREME languages, so it is comparable across tasks and settings.
    """
    if result is not None and result.status == "diverged":
        return {"per_language": {}, "average": {}, "real_test_sets": {}, "dev_per_language": {},
                "dev_average": {}, "also": {}}  # fmt: skip
    if result is not None and s.precision == "bf16":
        # Training is over (best checkpoint loaded): score with bf16 weights, cast once,
        # instead of autocast re-casting every weight at every batch (inference mode keeps
        # no autocast cache). e5-L12 XNLI, 200 pairs: 3.0 s against 3.8 s on 2 cores.
        import torch

        s.model.to(torch.bfloat16)
    out = _summarise(EVALUATORS.get(s.spec.kind, evaluate_trained)(s, p))
    out["also"] = {t: _summarise(evaluate_trained(s, p, t)) for t in p.also_evaluate}
    return out


def _summarise(found: dict) -> dict:
    scored_all = found["per_language"]
    real = {lang: d for lang, d in scored_all.items() if d.pop("real", False)}
    per_lang = {lang: d for lang, d in scored_all.items() if lang not in real}
    dev = found["dev_per_language"]
    return {
        "per_language": per_lang,
        "average": _average(per_lang),
        "dev_per_language": dev,
        "dev_average": _average(dev) if dev else {},
        "real_test_sets": real,
        "retrieval": found.get("retrieval"),
    }


def show(evaluation: dict, result: TrainResult | None = None) -> None:
    """Summary table, training curves (trained tasks), per-language table and bar chart."""
    import matplotlib.pyplot as plt
    import pandas as pd
    from IPython.display import display

    average = evaluation["average"].get("score")
    summary = {
        "zero-shot average": None if average is None else round(average, 2),
        "languages": len(evaluation["per_language"]),
        **common.training_summary(result),
    }
    display(pd.DataFrame({"value": summary}).astype(str))
    curves = common.plot_training(result)
    if curves is not None:  # shown here, above the table, not with the bars at the cell's end
        common.show_figure(curves)
    table = pd.DataFrame({**evaluation["per_language"], **evaluation["real_test_sets"]}).T
    display(table.round(2))
    if evaluation.get("dev_per_language"):
        print(f"dev average {evaluation['dev_average'].get('score', 0):.1f} (selection only)")
    for task, e in evaluation.get("also", {}).items():
        print(
            f"{task} (scored with this fine-tune): zero-shot average "
            f"{e['average'].get('score', 0):.1f} over {len(e['per_language'])} languages"
        )
        display(pd.DataFrame(e["per_language"]).T.round(2))  # fmt: skip
    if evaluation.get("retrieval"):
        r = evaluation["retrieval"]
        print(f"read-out layer {r['layer']} ({r['rule']}); score at every hidden_states index:")
        display(pd.DataFrame(r["per_layer"]).T.round(1))
    fig, ax = plt.subplots(figsize=(7, 2.8))
    if len(table):
        table["score"].plot.bar(ax=ax, color="#4c72b0")
    ax.set(
        ylabel="score (XTREME metric)", title=f"average {evaluation['average'].get('score', 0):.1f}"
    )
    common.show_figure(fig)


def write_results(s: Setup, result: TrainResult | None, evaluation: dict, p: TargetRunParams):
    """Write ``metrics.json``: per-language scores, average, training record, cost."""
    diverged = result is not None and result.status == "diverged"
    total = s.base_params.get("total") if isinstance(s.base_params, dict) else None
    m = {
        "phase": "target",
        "status": "diverged" if diverged else "ok",
        "model": p.model_label or p.model,
        "model_name": p.model,
        "params_m": round(total / 1e6, 2) if total else None,
        "parameters": s.base_params,
        "setting": p.setting,
        "mode": p.mode,
        "seed": p.seed,
        "task": p.task,
        "group": common.group_of(p.task),
        "metric": s.spec.metric,
        "languages": p.languages,
        "per_language": evaluation["per_language"],
        "average": evaluation["average"],
        "dev_per_language": evaluation.get("dev_per_language", {}),
        "dev_average": evaluation.get("dev_average", {}),
        "real_test_sets": evaluation.get("real_test_sets", {}),
        "encoder_source": s.encoder_source,
        "retrieval_layer": (evaluation.get("retrieval") or {}).get("layer"),
        "retrieval_layer_rule": (evaluation.get("retrieval") or {}).get("rule"),
        "retrieval_per_layer": (evaluation.get("retrieval") or {}).get("per_layer"),
        "retrieval_max_length": (
            retrieval.model_max_length(s.encoder) if not s.spec.train_task else None
        ),
        "retrieval_weights": (
            str(next(s.encoder.parameters()).dtype).removeprefix("torch.")
            if not s.spec.train_task
            else None
        ),
        # Trained targets: the dtype of the weights the test and dev sets were scored with.
        "evaluation_weights": (
            str(next(s.model.parameters()).dtype).removeprefix("torch.")
            if s.spec.train_task and not diverged
            else None
        ),
        # Targets scored with this run's fine-tune (MLQA beside XQuAD), one record each in
        # the shape of the top level; the analysis reads each as its own task.
        "also": {
            t: {
                "task": t,
                "group": common.group_of(t),
                "metric": s.also[t][0].metric,
                "languages": p.also_evaluate[t],
                **{k: v for k, v in e.items() if k != "retrieval"},
            }
            for t, e in evaluation.get("also", {}).items()
        },  # fmt: skip
        "train": result.to_dict() if result is not None else None,
        "device": s.device,
        "precision": s.precision,
        "wall_s": round(time.time() - s.t0, 2),
    }
    runs.write_metrics(p.run_dir, m)
    return m
