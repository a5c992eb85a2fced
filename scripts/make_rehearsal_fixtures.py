"""Write tests/fixtures/rehearsal: the files the rehearsal needs that the real XTREME folder lacks.

The ``rehearsal`` profile reads real XTREME files first (``data.root``: ``xtreme-real``) and
this folder second (``data.fallback_root``). It holds, in the official layouts, what
``../shared/xtreme-real`` does not have: MNLI, QQP, SQuAD v1.1/v2.0, HellaSwag, CCG, SNLI,
the ANLI, Cosmos QA, CommonsenseQA and PAWS-X train splits, translate-train data (MNLI and
SQuAD in de, zh), the labelled test sets that XTREME strips (XNLI, PAWS-X, PAN-X,
TyDiQA-GoldP) or that are absent (MLQA test, UD-POS de, BUCC test), and an MLM corpus.

Text comes from the mini generator (``xstilts.data.synthetic``, templated) and, for BUCC, from
the package-shipped gettext catalogues (``xstilts.data.parallel_text``); nothing is derived
from the real XTREME files. Deterministic: rerunning writes identical files.

    PYTHONPATH=lib python scripts/make_rehearsal_fixtures.py
"""

from __future__ import annotations

import csv
import io
import json

from xstilts import paths
from xstilts.data import parallel_text, synthetic

OUT = paths.FIXTURES / "rehearsal"
LANGS = ("en", "de", "zh")
TRANSLATED = ("de", "zh")
SIZES = {"train": 40, "dev": 16, "test": 16}
SEED = 11
NLI_XNLI = {"contradiction": "contradictory"}  # XNLI 1.0 / translate-train label spelling


def rows(task: str, split: str, lang: str = "en", n: int | None = None) -> list[dict]:
    """Generated schema rows of one task, split and language (the fixture's content)."""
    return synthetic.generate(task, split, lang, n or SIZES[split], seed=SEED)


def write(rel: str, text: str) -> None:
    """Write one fixture file under ``OUT``."""
    path = OUT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def tsv(records: list[list], header: list[str] | None = None) -> str:
    """Tab-separated text as ``csv.writer`` writes it (XTREME and GLUE files)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    if header:
        w.writerow(header)
    w.writerows(records)
    return buf.getvalue()


def jsonl(records: list[dict]) -> str:
    """One JSON object per line."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def squad(records: list[dict], version: str = "1.1", v2: bool = False) -> str:
    """SQuAD-format JSON, one article and paragraph per question."""
    data = []
    for r in records:
        a = r["answers"]
        qa = {
            "id": r["id"],
            "question": r["question"],
            "answers": [{"text": t, "answer_start": s} for t, s in zip(a["text"], a["answer_start"])],
        }  # fmt: skip
        if v2:
            qa["is_impossible"] = not a["text"]
        data.append({"title": r["id"], "paragraphs": [{"context": r["context"], "qas": [qa]}]})
    return json.dumps({"version": version, "data": data}, ensure_ascii=False) + "\n"


def tokens(records: list[dict], prefix: str = "") -> str:
    """``token<TAB>tag`` lines, a blank line after each sentence."""
    return "".join(
        "".join(f"{prefix}{t}\t{g}\n" for t, g in zip(r["tokens"], r["tags"])) + "\n"
        for r in records
    )


def glue_mnli(records: list[dict]) -> str:
    """GLUE MNLI tsv with its header."""
    header = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse",
              "sentence2_binary_parse", "sentence1_parse", "sentence2_parse", "sentence1",
              "sentence2", "label1", "gold_label"]  # fmt: skip
    body = [
        [i, i, f"{i}e", "fiction", "", "", "", "", r["text_a"], r["text_b"], r["label"], r["label"]]
        for i, r in enumerate(records)
    ]
    return tsv(body, header)


def nli_tasks() -> None:
    """MNLI, XNLI translate-train and labelled test, ANLI train rounds, SNLI."""
    write("mnli/train.tsv", glue_mnli(rows("mnli", "train")))
    write("mnli/dev_matched.tsv", glue_mnli(rows("mnli", "dev")))
    for lang in TRANSLATED:  # XTREME translate-train: sentence1, sentence2, label; no header
        recs = [[r["text_a"], r["text_b"], NLI_XNLI.get(r["label"], r["label"])]
                for r in rows("mnli", "train", lang)]  # fmt: skip
        write(f"xnli/XNLI-Translated/en-{lang}-translated.tsv", tsv(recs))
    header = ["language", "gold_label", "sentence1_binary_parse", "sentence2_binary_parse",
              "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "promptID",
              "pairID", "genre"]  # fmt: skip
    body = [
        [lang, NLI_XNLI.get(r["label"], r["label"]), "", "", "", "", r["text_a"], r["text_b"],
         i, i, "facetoface"]
        for lang in LANGS for i, r in enumerate(rows("xnli", "test", lang))
    ]  # fmt: skip
    write("xnli/XNLI-1.0/xnli.test.tsv", tsv(body, header))
    short = {"entailment": "e", "neutral": "n", "contradiction": "c"}
    for k in (1, 2, 3):
        recs = [{"uid": f"r{k}-{r['id']}", "context": r["text_a"], "hypothesis": r["text_b"],
                 "label": short[r["label"]], "genre": "wiki"}
                for r in synthetic.generate("anli", "train", "en", SIZES["train"], seed=SEED + k)]  # fmt: skip
        write(f"anli/anli_v1.0/R{k}/train.jsonl", jsonl(recs))
    for split in ("train", "dev"):
        recs = [{"pairID": r["id"], "sentence1": r["text_a"], "sentence2": r["text_b"],
                 "gold_label": r["label"], "annotator_labels": [r["label"]]}
                for r in synthetic.generate("mnli", split, "en", SIZES[split], seed=SEED + 7)]  # fmt: skip
        write(f"snli/snli_1.0/snli_1.0_{split}.jsonl", jsonl(recs))


def pair_tasks() -> None:
    """QQP, the PAWS-X English train and labelled tests."""
    header = ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"]
    for split in ("train", "dev"):
        body = [[i, 2 * i, 2 * i + 1, r["text_a"], r["text_b"], r["label"]]
                for i, r in enumerate(rows("qqp", split))]  # fmt: skip
        write(f"qqp/{split}.tsv", tsv(body, header))
    write("pawsx/train-en.tsv", tsv([[r["text_a"], r["text_b"], r["label"]]
                                      for r in rows("pawsx", "train")]))  # fmt: skip
    for lang in LANGS:  # the labelled x-final release (XTREME strips the test labels)
        body = [[i, r["text_a"], r["text_b"], r["label"]]
                for i, r in enumerate(rows("pawsx", "test", lang))]  # fmt: skip
        write(
            f"pawsx/x-final/{lang}/test_2k.tsv",
            tsv(body, ["id", "sentence1", "sentence2", "label"]),
        )


def qa_tasks() -> None:
    """SQuAD v1.1/v2.0, SQuAD translate-train, MLQA test, labelled TyDiQA-GoldP English."""
    write("squad/train-v1.1.json", squad(rows("squad_v1", "train")))
    write("squad/dev-v1.1.json", squad(rows("squad_v1", "dev")))
    write("squad/train-v2.0.json", squad(rows("squad_v2", "train"), "v2.0", v2=True))
    write("squad/dev-v2.0.json", squad(rows("squad_v2", "dev"), "v2.0", v2=True))
    for lang in TRANSLATED:
        write(f"squad/translate-train/squad.translate.train.en-{lang}.json",
              squad(rows("squad_v1", "train", lang)))  # fmt: skip
    for lang in LANGS:  # MLQA's test split is absent from the real folder
        write(f"mlqa/MLQA_V1/test/test-context-{lang}-question-{lang}.json",
              squad(rows("mlqa", "test", lang)))  # fmt: skip
    # XTREME blanks TyDiQA-GoldP dev (its test); the labelled release names files by language
    write(
        "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-english.json", squad(rows("tydiqa", "test"))
    )


def choice_tasks() -> None:
    """HellaSwag, the Cosmos QA and CommonsenseQA train splits."""
    for split, name in (("train", "train"), ("dev", "val")):
        recs = [{"ind": i, "ctx_a": r["context"], "ctx_b": r["question"],
                 "ctx": f"{r['context']} {r['question']}", "split": name, "label": r["label"],
                 "endings": r["choices"], "activity_label": "rehearsal"}
                for i, r in enumerate(rows("hellaswag", split))]  # fmt: skip
        write(f"hellaswag/hellaswag_{name}.jsonl", jsonl(recs))
    recs = [{"id": r["id"], "context": r["context"], "question": r["question"],
             **{f"answer{k}": c for k, c in enumerate(r["choices"])}, "label": r["label"]}
            for r in rows("cosmosqa", "train")]  # fmt: skip
    write("cosmosqa/train.jsonl", jsonl(recs))
    keys = "ABCDE"
    recs = [{"id": r["id"], "answerKey": keys[r["label"]],
             "question": {"stem": r["question"],
                          "choices": [{"label": keys[k], "text": c} for k, c in enumerate(r["choices"])]}}
            for r in rows("commonsenseqa", "train")]  # fmt: skip
    write("commonsenseqa/train_rand_split.jsonl", jsonl(recs))


def tagging_tasks() -> None:
    """CCG, UD-POS German dev/test and Chinese dev, labelled PAN-X tests."""
    write("ccg/train.tsv", tokens(rows("ccg", "train")))
    write("ccg/dev.tsv", tokens(rows("ccg", "dev")))
    write("udpos/test-de.tsv", tokens(rows("udpos", "test", "de")))  # absent from the real folder
    for lang in ("de", "zh"):
        write(f"udpos/dev-{lang}.tsv", tokens(rows("udpos", "dev", lang)))
    for lang in LANGS:  # the labelled WikiANN release (XTREME keeps tokens only)
        write(f"panx/panx_dataset/{lang}/test", tokens(rows("panx", "test", lang), f"{lang}:"))


def retrieval_and_mlm() -> None:
    """BUCC splits the real folder lacks (gettext text) and the MLM corpus."""
    for lang, split in (("de", "dev"), ("de", "test"), ("zh", "test")):
        recs, gold = parallel_text.bucc_split(lang, split, n_gold=12, n_distractors=12, seed=SEED)
        stem = f"bucc2018/{lang}-en.{split}"
        for side, code in (("src", lang), ("trg", "en")):
            write(
                f"{stem}.{code}",
                "".join(f"{r['id']}\t{r['text']}\n" for r in recs if r["side"] == side),
            )
        write(f"{stem}.gold", "".join(f"{g['src_id']}\t{g['trg_id']}\n" for g in gold))
    for lang in LANGS:
        write(f"mlm/{lang}.txt", "".join(r["text"].replace("\n", " ") + "\n"
                                         for r in rows("mlm", "train", lang, 60)))  # fmt: skip


def main() -> None:
    """Write every fixture and say how many files."""
    for make in (nli_tasks, pair_tasks, qa_tasks, choice_tasks, tagging_tasks, retrieval_and_mlm):
        make()
    files = sorted(p for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {len(files)} files under {OUT}")


if __name__ == "__main__":
    main()
