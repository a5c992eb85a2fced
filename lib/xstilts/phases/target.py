"""Phase (iii) (``20_target.ipynb``): target-task fine-tuning and zero-shot evaluation.

Trained targets (XNLI, PAWS-X, POS, NER, XQuAD, MLQA, TyDiQA) fine-tune the phase-(ii)
encoder (or the pretrained one for setting ``none``) on English training data with a
freshly initialised head (paper A.2), select the checkpoint on the English dev subset,
and score every language's test split zero-shot. BUCC and Tatoeba have no training data:
they embed sentences with the phase-(ii) encoder directly (mean-pooled hidden states of
the retrieval layer, ``xtreme.retrieval_layer``).
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
    layer: int = 0
    precision: str = "fp32"


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
    params = count_parameters(encoder)
    # Parameter count of the phase-(i) model (the scale axis), without loading its weights.
    base = params if not p.intermediate_dir else model_info(p.model)["parameters"]
    s = Setup(spec, encoder, tokenizer, source, device, params, base, t0)
    s.layer = p.retrieval_layer
    s.precision = common.check_precision(p.precision, device)
    if spec.train_task:
        root = store.dataset_dir(p.data_dir)
        s.train_rows = store.read_split(root, spec.train_task, "train", "en")
        s.spec = with_labels(spec, s.train_rows)
        # Real annotated test sets (mini) have no dev split: nothing is tuned on them.
        s.dev_sets = {
            p.task: {
                lang: store.read_split(root, p.task, "dev", lang)
                for lang in p.languages
                if store.split_path(root, p.task, "dev", lang).exists()
            }
        }
        # Heads seeded by the run's seed: the same run gives the same result in any process.
        s.model = MultiTaskModel(encoder, {p.task: s.spec}, tokenizer=tokenizer, seed=p.seed)
    return s


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
    cfg = common.train_config(p.train, p.seed, s.device, s.precision)
    evaluate_fn = common.make_evaluate_fn(
        {p.task: s.spec}, s.tokenizer, max_len, precision=s.precision
    )
    result = train(s.model, {p.task: feats}, s.dev_sets, cfg, p.run_dir, evaluate_fn)
    if result.status != "diverged":
        load_best(s.model, p.run_dir)
    return result


def _retrieval_layer(s: Setup) -> int:
    """The profile's layer choice resolved to a ``hidden_states`` index."""
    n = s.encoder.config.num_hidden_layers
    return {0: xtreme.retrieval_layer(n), -1: n}.get(s.layer, s.layer)


def evaluate_tatoeba(s: Setup, p: TargetRunParams) -> dict:
    """Tatoeba accuracy per language (English queries retrieve the nearest foreign sentence)."""
    root, layer, out = store.dataset_dir(p.data_dir), _retrieval_layer(s), {}
    for lang in p.languages:
        rows = store.read_split(root, "tatoeba", "test", lang)
        emb = [
            retrieval.embed_sentences(
                s.encoder,
                s.tokenizer,
                [r[side] for r in rows],
                layer,
                max_length=p.train["max_seq_len"],
                device=s.device,
                precision=s.precision,
            )
            for side in ("src", "trg")
        ]
        out[lang] = {"score": retrieval.tatoeba_accuracy(*emb), "n": len(rows)}
    return out


def evaluate_bucc(s: Setup, p: TargetRunParams) -> dict:
    """BUCC F1 per language: threshold tuned on dev, applied to test."""
    root, layer, out = store.dataset_dir(p.data_dir), _retrieval_layer(s), {}
    for lang in p.languages:
        found = {}
        for split in ("dev", "test"):
            rows = store.read_split(root, "bucc2018", split, lang)
            gold = {
                (g["src_id"], g["trg_id"]) for g in store.read_gold(root, "bucc2018", split, lang)
            }
            sides = {side: [r for r in rows if r["side"] == side] for side in ("src", "trg")}
            emb = {
                side: retrieval.embed_sentences(
                    s.encoder,
                    s.tokenizer,
                    [r["text"] for r in sides[side]],
                    layer,
                    max_length=p.train["max_seq_len"],
                    device=s.device,
                    precision=s.precision,
                )
                for side in sides
            }
            cands = retrieval.bucc_mine(
                emb["src"],
                emb["trg"],
                [r["id"] for r in sides["src"]],
                [r["id"] for r in sides["trg"]],
                src_texts=[r["text"] for r in sides["src"]],
                trg_texts=[r["text"] for r in sides["trg"]],
            )
            found[split] = (cands, gold)
        dev = retrieval.bucc_optimize(*found["dev"])
        test = retrieval.bucc_f1_at(*found["test"], dev["threshold"])
        out[lang] = {
            "score": test["f1"],
            **test,
            "threshold": dev["threshold"],
            "dev_f1": dev["f1"],
        }
    return out


def evaluate_trained(s: Setup, p: TargetRunParams) -> dict:
    """Zero-shot test scores per language with XTREME's metric."""
    root, out = store.dataset_dir(p.data_dir), {}
    for lang in p.languages:
        rows = store.read_split(root, p.task, "test", lang)
        out[lang] = common.score_rows(
            s.model,
            s.spec,
            p.task,
            rows,
            s.tokenizer,
            p.train["max_seq_len"],
            lang,
            precision=s.precision,
        )
        out[lang]["n"] = len(rows)
        if rows and rows[0]["id"].startswith(f"{p.task}-real-"):
            out[lang]["real"] = True  # a real annotated set (data.annotated), reported apart
    return out


EVALUATORS = {"bitext_retrieval": evaluate_tatoeba, "bitext_mining": evaluate_bucc}


def evaluate(s: Setup, result: TrainResult | None, p: TargetRunParams) -> dict:
    """Per-language scores and the task average (English included, as XTREME averages).

    Real annotated test sets (mini: Turkish POS, Japanese NER) are kept apart in
    ``real_test_sets``: the average stays over the parallel mini-XTREME languages, so it
    is comparable across tasks and settings.
    """
    if result is not None and result.status == "diverged":
        return {"per_language": {}, "average": {}, "real_test_sets": {}}
    scored_all = EVALUATORS.get(s.spec.kind, evaluate_trained)(s, p)
    real = {lang: d for lang, d in scored_all.items() if d.pop("real", False)}
    per_lang = {lang: d for lang, d in scored_all.items() if lang not in real}
    scored = {lang: {k: v for k, v in d.items() if k != "n"} for lang, d in per_lang.items()}
    return {
        "per_language": per_lang,
        "average": metrics.task_average(scored),
        "real_test_sets": real,
    }


def show(evaluation: dict):
    """A per-language bar chart and table."""
    import matplotlib.pyplot as plt
    import pandas as pd
    from IPython.display import display

    table = pd.DataFrame({**evaluation["per_language"], **evaluation["real_test_sets"]}).T
    display(table.round(2))
    fig, ax = plt.subplots(figsize=(7, 2.8))
    if len(table):
        table["score"].plot.bar(ax=ax, color="#4c72b0")
    ax.set(
        ylabel="score (XTREME metric)", title=f"average {evaluation['average'].get('score', 0):.1f}"
    )
    fig.tight_layout()
    return fig


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
        "real_test_sets": evaluation.get("real_test_sets", {}),
        "encoder_source": s.encoder_source,
        "retrieval_layer": _retrieval_layer(s) if not s.spec.train_task else None,
        "train": result.to_dict() if result is not None else None,
        "device": s.device,
        "precision": s.precision,
        "wall_s": round(time.time() - s.t0, 2),
    }
    runs.write_metrics(p.run_dir, m)
    return m
