"""Readers of the official file formats, one function per format, into the xstilts schema.

Each reader takes ``(path, lang)`` and returns a list of rows in the normalised schema of
``docs/ARCHITECTURE.md`` (every row has ``id`` and ``lang``). The readers know nothing about
folder layouts; :mod:`xstilts.data.loaders` finds the files and picks the reader.

Formats (``FORMATS`` keys):

- ``nli_tsv``: XNLI/MNLI tab-separated files. With a header (original XNLI 1.0
  ``xnli.{dev,test}.tsv`` with ``language``/``gold_label``/``sentence1``/``sentence2``; XNLI-MT
  ``multinli.train.<lang>.tsv`` with ``premise``/``hypo``/``label``; GLUE MNLI ``train.tsv``)
  columns are found by name; without a header (XTREME ``{dev,test}-<lang>.tsv``, XTREME
  translate-train ``en-<lang>-translated.tsv``) the columns are ``sentence1 sentence2 label``.
- ``nli_jsonl``: ANLI (``context``/``premise``, ``hypothesis``, ``label`` e/n/c), SNLI and
  MultiNLI (``sentence1``, ``sentence2``, ``gold_label``), HF exports (``premise``,
  ``hypothesis``, ``label`` 0/1/2).
- ``anli_csv``: ANLI's annotated dev copies (``ANLI_analysis_r<k>_dev.csv``, anli_annot_v0.2).
- ``pawsx_tsv``: PAWS-X ``id sentence1 sentence2 label`` with header (``x-final/<lang>/*.tsv``)
  or XTREME's header-less ``sentence1 sentence2 label`` files.
- ``qqp_tsv``: GLUE QQP ``id qid1 qid2 question1 question2 is_duplicate``.
- ``conllu``: Universal Dependencies; words (FORM) and UPOS, skipping multiword-token ranges
  (``1-2``) and empty nodes (``1.1``).
- ``token_tag``: one ``token<TAB>tag`` per line, blank line between sentences: PAN-X original
  (``en:token<TAB>B-PER``; the ``<lang>:`` prefix is stripped), XTREME-processed
  ``{train,dev,test}-<lang>.tsv`` for PAN-X and UD-POS, and our CCG layout (``token<TAB>supertag``).
  jiant's CCG layout (one sentence per line, ``tokens<TAB>tags`` space-separated) is detected.
- ``squad_json``: SQuAD v1.1/v2.0 (``is_impossible`` gives empty answers), XQuAD, MLQA,
  TyDiQA-GoldP and the XTREME translate-train QA files (all SQuAD-format JSON).
- ``hellaswag_jsonl``, ``cosmosqa`` (jsonl or csv), ``commonsenseqa_jsonl`` (original and HF).
- ``schema_jsonl``: rows already in our schema (the user layout for translated data).

BUCC and Tatoeba come as file *pairs* and have their own readers (:func:`read_bucc`,
:func:`read_tatoeba`), called by the loader.
"""

from __future__ import annotations

import csv
import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path

from xstilts.xtreme import NLI_LABELS


class DataFormatError(ValueError):
    """A file exists but cannot be read into the schema (wrong format, labels stripped)."""


class LabelsStrippedError(DataFormatError):
    """A file in XTREME's processed form whose gold labels (or QA answers) were removed.

    ``detail`` is the message without the fix hint, so that the loader, which knows the task,
    can name the labelled release to download instead of the generic hint.
    """

    def __init__(self, detail: str, hint: str = "point data.sources at the original release"):
        super().__init__(f"{detail}; {hint}")
        self.detail = detail


# --- shared helpers -----------------------------------------------------------------------------

# Every spelling of an NLI label met in the official files. Integer labels follow the HF/GLUE
# ClassLabel order (entailment, neutral, contradiction); XNLI writes "contradictory".
NLI_LABEL_MAP: dict = {
    **{name: name for name in NLI_LABELS},
    "contradictory": "contradiction",
    "e": "entailment",
    "n": "neutral",
    "c": "contradiction",
    0: "entailment",
    1: "neutral",
    2: "contradiction",
    "0": "entailment",
    "1": "neutral",
    "2": "contradiction",
}
# SNLI/MNLI mark pairs without annotator consensus with "-" (HF: -1); the NLI literature
# (and ANLI+'s 1,104,934 training pairs) drops them.
NO_CONSENSUS = {"-", -1, "-1", "", None}


def _lines(path: Path) -> list[str]:
    # utf-8-sig: a few Windows-exported files start with a BOM that would glue onto a header.
    return Path(path).read_text(encoding="utf-8-sig").splitlines()


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in _lines(path) if line.strip()]


def _unquote(field: str) -> str:
    """Undo ``csv.writer`` quoting, which XTREME's ``utils_preprocess.py`` applies.

    A field is unquoted only if it is wrapped in quotes and every inner quote is doubled, so
    raw official files (read with no quoting) are left alone.
    """
    if len(field) >= 2 and field[0] == field[-1] == '"':
        inner = field[1:-1]
        if '"' not in inner.replace('""', ""):
            return inner.replace('""', '"')
    return field


def _split_tsv(line: str, unquote: bool) -> list[str]:
    fields = line.rstrip("\r\n").split("\t")
    return [_unquote(f) for f in fields] if unquote else fields


def _nli_label(raw, where: str) -> str | None:
    if raw in NO_CONSENSUS:
        return None
    key = raw.strip().lower() if isinstance(raw, str) else raw
    if key not in NLI_LABEL_MAP:
        raise DataFormatError(f"{where}: unknown NLI label {raw!r}; expected one of {NLI_LABELS}")
    return NLI_LABEL_MAP[key]


def _labels_stripped(path: Path, what: str) -> LabelsStrippedError:
    return LabelsStrippedError(
        f"{path}: {what} has no gold labels (XTREME's preprocessing removes test labels)"
    )


# --- sentence-pair classification ---------------------------------------------------------------

_NLI_COLUMNS = {
    "text_a": ("sentence1", "premise"),
    "text_b": ("sentence2", "hypothesis", "hypo"),
    "label": ("gold_label", "label"),
    "lang": ("language",),
    "id": ("pairID", "pairid", "index", "id"),
}


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def read_nli_tsv(path: Path, lang: str) -> list[dict]:
    """Read an XNLI/MNLI tsv (with or without header) into classification rows."""
    path = Path(path)
    lines = [ln for ln in _lines(path) if ln.strip()]
    if not lines:
        return []
    header = lines[0].split("\t")
    cols = {k: _find(header, v) for k, v in _NLI_COLUMNS.items()}
    has_header = cols["text_a"] is not None and cols["text_b"] is not None
    rows = []
    body = lines[1:] if has_header else lines
    for i, line in enumerate(body):
        # Official files are raw text (no quoting); XTREME's header-less files come from
        # csv.writer and may carry quoted fields.
        f = _split_tsv(line, unquote=not has_header)
        if has_header:
            if cols["lang"] is not None and f[cols["lang"]] != lang:
                continue  # XNLI 1.0 holds all 15 languages in one file
            a, b = f[cols["text_a"]], f[cols["text_b"]]
            raw = f[cols["label"]] if cols["label"] is not None else None
            rid = f[cols["id"]] if cols["id"] is not None else f"{path.stem}-{i}"
        else:
            if len(f) < 3:
                raise _labels_stripped(path, "this XTREME tsv")
            a, b, raw, rid = f[0], f[1], f[2], f"{path.stem}-{i}"
        label = _nli_label(raw, f"{path}:{i + 2 if has_header else i + 1}")
        if label is None:
            continue
        rows.append({"id": str(rid), "lang": lang, "text_a": a, "text_b": b, "label": label})
    return rows


def nli_row(d: dict, lang: str, rid: str) -> dict | None:
    """Map one ANLI/SNLI/MNLI/HF json record to a classification row (None = no consensus)."""
    a = d.get("premise", d.get("context", d.get("sentence1")))
    b = d.get("hypothesis", d.get("sentence2"))
    raw = d["gold_label"] if "gold_label" in d else d.get("label")
    label = _nli_label(raw, rid)
    if label is None or a is None or b is None:
        return None
    rid = str(d.get("uid", d.get("pairID", d.get("idx", rid))))
    return {"id": rid, "lang": lang, "text_a": a, "text_b": b, "label": label}


def read_anli_csv(path: Path, lang: str) -> list[dict]:
    """Read ANLI's annotated dev copies ``ANLI_analysis_r{1,2,3}_dev.csv`` (anli_annot_v0.2).

    Columns by name (``context``, ``statement``, ``gold_label`` e/n/c, ``uid``); a few fields
    hold line breaks and rows end in CRLF, so this is a CSV reader, not a line splitter. The
    R3 copy has 1,198 of the official 1,200 dev pairs.
    """
    path = Path(path)
    with open(path, encoding="utf-8-sig", newline="") as f:
        records = list(csv.DictReader(f))
    pairs = (
        {"context": d["context"], "hypothesis": d["statement"], "label": d["gold_label"],
         "uid": d["uid"]}
        for d in records
    )  # fmt: skip
    rows = (nli_row(d, lang, f"{path.stem}-{i}") for i, d in enumerate(pairs))
    return [r for r in rows if r is not None]


def read_nli_jsonl(path: Path, lang: str) -> list[dict]:
    """Read ANLI / SNLI / MultiNLI / HF-exported NLI jsonl into classification rows."""
    path = Path(path)
    rows = (nli_row(d, lang, f"{path.stem}-{i}") for i, d in enumerate(_jsonl(path)))
    return [r for r in rows if r is not None]


def read_pawsx_tsv(path: Path, lang: str) -> list[dict]:
    """Read PAWS-X (original ``id sentence1 sentence2 label`` or XTREME 3-column) tsv."""
    path = Path(path)
    lines = [ln for ln in _lines(path) if ln.strip()]
    has_header = bool(lines) and lines[0].split("\t")[:2] == ["id", "sentence1"]
    rows = []
    for i, line in enumerate(lines[1:] if has_header else lines):
        f = _split_tsv(line, unquote=not has_header)
        if not has_header:
            if len(f) < 3:
                raise _labels_stripped(path, "this XTREME PAWS-X tsv")
            f = [None, *f[:3]]
        rid, a, b, label = f[:4]
        rows.append(
            {
                "id": str(rid) if rid else f"{path.stem}-{i}",
                "lang": lang,
                "text_a": a,
                "text_b": b,
                "label": str(int(float(label))),  # a few files write 1.0
            }
        )
    return rows


def read_qqp_tsv(path: Path, lang: str) -> list[dict]:
    """Read GLUE QQP tsv; malformed lines (a handful in the GLUE release) are skipped."""
    path = Path(path)
    lines = _lines(path)
    header = lines[0].split("\t")
    iq1, iq2 = header.index("question1"), header.index("question2")
    il = header.index("is_duplicate") if "is_duplicate" in header else None
    if il is None:
        raise _labels_stripped(path, "the QQP test split")
    rows = []
    for line in lines[1:]:
        f = line.split("\t")
        if len(f) != len(header):
            continue
        rows.append(
            {"id": f[0], "lang": lang, "text_a": f[iq1], "text_b": f[iq2], "label": f[il].strip()}
        )
    return rows


# --- tagging ------------------------------------------------------------------------------------


def _clean_word(word: str) -> str:
    # As XTREME's udpos_preprocess: drop zero-width non-joiners and inner spaces (vi, fa words
    # like "Hà Nội"), so that tokens stay whitespace-free like the XTREME-processed files.
    return "".join(word.replace("\u200c", "").split(" "))


def read_conllu(path: Path, lang: str) -> list[dict]:
    """Read a CoNLL-U file into tagging rows of UD words and UPOS tags.

    Multiword-token lines (``3-4 del``) and empty nodes (``5.1``) are skipped, so tokens are
    the syntactic words that carry UPOS. (XTREME's conversion prints the fused surface form
    instead; use its processed ``<split>-<lang>.tsv`` to reproduce that exactly.) Sentences
    whose forms are hidden (``_``, treebanks distributed without text) are dropped, as XTREME does.
    """
    path = Path(path)
    rows, words, tags, sent_id = [], [], [], None

    def flush():
        nonlocal words, tags, sent_id
        hidden = sum(w == "_" for w in words)
        if words and (hidden == 0 or hidden < len(words) - 1):
            rid = sent_id or f"{path.stem}-{len(rows)}"
            rows.append({"id": rid, "lang": lang, "tokens": words, "tags": tags})
        words, tags, sent_id = [], [], None

    for line in _lines(path):
        if not line.strip():
            flush()
        elif line.startswith("#"):
            m = re.match(r"#\s*sent_id\s*=\s*(\S+)", line)
            sent_id = m.group(1) if m else sent_id
        else:
            f = line.split("\t")
            if len(f) != 10:
                raise DataFormatError(f"{path}: not CoNLL-U (expected 10 columns): {line[:60]!r}")
            if "-" in f[0] or "." in f[0]:
                continue
            words.append(_clean_word(f[1]))
            tags.append(f[3])
    flush()
    return rows


def read_token_tag(path: Path, lang: str) -> list[dict]:
    """Read ``token<TAB>tag`` lines (PAN-X, XTREME UD-POS, CCG) into tagging rows."""
    path = Path(path)
    lines = _lines(path)
    nonblank = [ln for ln in lines if ln.strip()]
    # jiant's CCG files hold one sentence per line ("tokens<TAB>tags", space-separated) and
    # have no blank lines; the token-per-line layout never has a space in a token.
    if nonblank and len(nonblank) == len(lines) and any(" " in ln.split("\t")[0] for ln in lines):
        rows = []
        for i, ln in enumerate(nonblank):
            text, tags = ln.split("\t")
            rows.append(
                {
                    "id": f"{path.stem}-{i}",
                    "lang": lang,
                    "tokens": text.split(),
                    "tags": tags.split(),
                }
            )
        return rows
    prefix = f"{lang}:"  # PAN-X prefixes every token with its language ("en:Paris")
    rows, tokens, tags = [], [], []
    for n, line in enumerate([*lines, ""]):
        if not line.strip():
            if tokens:
                rows.append(
                    {"id": f"{path.stem}-{len(rows)}", "lang": lang, "tokens": tokens, "tags": tags}
                )
            tokens, tags = [], []
            continue
        f = line.rstrip("\r\n").split("\t")
        if len(f) < 2:
            raise _labels_stripped(path, f"line {n + 1} (token without tag)")
        token = f[0][len(prefix) :] if f[0].startswith(prefix) else f[0]
        tokens.append(token)
        tags.append(f[-1].strip())
    return rows


# --- extractive QA ------------------------------------------------------------------------------


def squad_rows(data: dict, lang: str, where: str, id_filter=None) -> list[dict]:
    """Flatten SQuAD-format JSON (``data/paragraphs/qas``) into qa rows.

    Args:
        data: The parsed JSON object.
        lang: Context language of the file.
        where: File name for messages.
        id_filter: Optional predicate on question ids (TyDiQA's combined train file).

    Returns:
        Rows with ``answers = {"text": [...], "answer_start": [...]}``; SQuAD 2.0
        unanswerable questions (``is_impossible``) get empty lists.

    """
    rows, bad, stripped = [], 0, 0
    for article in data["data"]:
        for par in article["paragraphs"]:
            ctx = par["context"]
            for qa in par["qas"]:
                if id_filter is not None and not id_filter(qa["id"]):
                    continue
                texts, starts = [], []
                if not qa.get("is_impossible", False):
                    for ans in qa.get("answers", []):
                        if ans["text"] == "":
                            stripped += 1
                            continue
                        bad += ctx[ans["answer_start"] :][: len(ans["text"])] != ans["text"]
                        texts.append(ans["text"])
                        starts.append(int(ans["answer_start"]))
                rows.append(
                    {
                        "id": str(qa["id"]),
                        "lang": lang,
                        "context": ctx,
                        "question": qa["question"],
                        "answers": {"text": texts, "answer_start": starts},
                    }
                )
    if rows and stripped >= len(rows):
        raise LabelsStrippedError(
            f"{where}: every answer is empty, the annotations were removed by XTREME's "
            "remove_qa_test_annotations"
        )
    if bad:
        warnings.warn(f"{where}: {bad} answers do not match context[answer_start:]", stacklevel=2)
    if len({r["id"] for r in rows}) < len(rows):
        # XTREME's per-language TyDiQA train file shortens the ids to small numbers ("0",
        # "12"): 89 distinct ids for 3,696 questions. Predictions and references are keyed
        # by id, so number them in file order.
        for i, r in enumerate(rows):
            r["id"] = f"{r['id']}-q{i}"
    return rows


def read_squad_json(path: Path, lang: str) -> list[dict]:
    """Read SQuAD v1.1/v2.0, XQuAD, MLQA, TyDiQA-GoldP or translate-train QA JSON."""
    path = Path(path)
    return squad_rows(json.loads(path.read_text(encoding="utf-8")), lang, str(path))


# --- multiple choice ----------------------------------------------------------------------------


def hellaswag_row(d: dict, lang: str, rid: str) -> dict:
    """Map one HellaSwag record; choices are ``ctx_b + " " + ending`` as in jiant."""
    if "label" not in d or d["label"] in ("", None):
        raise DataFormatError(f"{rid}: HellaSwag record without label (the test split is hidden)")
    if "ctx_a" in d:  # original release: the ending continues ctx_b
        context, choices = d["ctx_a"], [f"{d.get('ctx_b', '')} {e}".strip() for e in d["endings"]]
    else:
        context, choices = d["ctx"], d["endings"]
    return {
        "id": str(d.get("ind", rid)),
        "lang": lang,
        "context": context,
        "question": "",
        "choices": list(choices),
        "label": int(d["label"]),
    }


def read_hellaswag_jsonl(path: Path, lang: str) -> list[dict]:
    """Read HellaSwag jsonl into multiple-choice rows."""
    path = Path(path)
    return [hellaswag_row(d, lang, f"{path.stem}-{i}") for i, d in enumerate(_jsonl(path))]


def cosmosqa_row(d: dict, lang: str, rid: str) -> dict:
    """Map one Cosmos QA record (``context question answer0..3 label``)."""
    return {
        "id": str(d.get("id", rid)),
        "lang": lang,
        "context": d["context"],
        "question": d["question"],
        "choices": [d[f"answer{k}"] for k in range(4)],
        "label": int(d["label"]),
    }


def read_cosmosqa(path: Path, lang: str) -> list[dict]:
    """Read Cosmos QA ``.jsonl`` or ``.csv`` (standard csv quoting) into multiple-choice rows."""
    path = Path(path)
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as f:
            records = list(csv.DictReader(f))
    else:
        records = _jsonl(path)
    return [cosmosqa_row(d, lang, f"{path.stem}-{i}") for i, d in enumerate(records)]


def commonsenseqa_row(d: dict, lang: str, rid: str) -> dict:
    """Map one CommonsenseQA record, original (``question.stem``) or HF format."""
    q = d["question"]
    if isinstance(q, dict):  # original: {"stem", "choices": [{"label", "text"}]}
        stem, pairs = q["stem"], [(c["label"], c["text"]) for c in q["choices"]]
    else:  # HF: question str, choices {"label": [...], "text": [...]}
        stem, pairs = q, list(zip(d["choices"]["label"], d["choices"]["text"]))
    pairs.sort()  # labels A..E
    keys = [k for k, _ in pairs]
    if d.get("answerKey") not in keys:
        raise DataFormatError(f"{rid}: answerKey {d.get('answerKey')!r} not in {keys}")
    return {
        "id": str(d.get("id", rid)),
        "lang": lang,
        "context": "",
        "question": stem,
        "choices": [t for _, t in pairs],
        "label": keys.index(d["answerKey"]),
    }


def read_commonsenseqa_jsonl(path: Path, lang: str) -> list[dict]:
    """Read CommonsenseQA jsonl into multiple-choice rows."""
    path = Path(path)
    return [commonsenseqa_row(d, lang, f"{path.stem}-{i}") for i, d in enumerate(_jsonl(path))]


def read_schema_jsonl(path: Path, lang: str) -> list[dict]:
    """Read rows already in the xstilts schema; ``lang`` is filled in where missing."""
    rows = _jsonl(Path(path))
    for i, r in enumerate(rows):
        r.setdefault("lang", lang)
        r["id"] = str(r.get("id", f"{Path(path).stem}-{i}"))
    return rows


# --- bitext -------------------------------------------------------------------------------------


def _id_text(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in _lines(path):
        if line.strip():
            rid, _, text = line.partition("\t")
            out.append((rid.strip(), text.strip()))
    return out


def read_bucc(src: Path, trg: Path, gold: Path | None, lang: str) -> tuple[list[dict], list[dict]]:
    """Read one BUCC 2018 language pair (``id<TAB>sentence`` files, ``src_id<TAB>trg_id`` gold).

    Returns:
        ``(rows, gold_rows)``: ``side`` src rows then trg rows, and the gold pairs (empty when
        the gold file is absent, as for XTREME's test split).

    """
    rows = [{"id": i, "lang": lang, "side": "src", "text": t} for i, t in _id_text(src)]
    rows += [{"id": i, "lang": lang, "side": "trg", "text": t} for i, t in _id_text(trg)]
    pairs = [{"src_id": s, "trg_id": t} for s, t in _id_text(gold)] if gold else []
    return rows, pairs


def read_tatoeba(src: Path, eng: Path, lang: str, labels: Path | None = None) -> list[dict]:
    """Read a Tatoeba pair of line-aligned files (LASER ``tatoeba.<l3>-eng.{<l3>,eng}``).

    Args:
        src: Non-English side, one sentence per line.
        eng: English side. If ``labels`` is given it is jiant's alphabetically sorted copy and
            ``labels[k]`` is the original line of its k-th sentence.
        lang: Our 2-letter language code.
        labels: jiant's ``<lang>-en.labels`` file, or None for aligned files.

    """
    s = [ln.strip() for ln in _lines(src)]
    e = [ln.strip() for ln in _lines(eng)]
    if labels is not None:
        order = [int(x) for x in _lines(labels) if x.strip()]
        aligned = [""] * len(e)
        for k, original in enumerate(order):
            aligned[original] = e[k]
        e = aligned
    if len(s) != len(e):
        raise DataFormatError(f"{src} and {eng} are not line-aligned ({len(s)} vs {len(e)} lines)")
    return [
        {"id": f"tatoeba-{lang}-{i}", "lang": lang, "src": a, "trg": b}
        for i, (a, b) in enumerate(zip(s, e))
    ]


Reader = Callable[[Path, str], list[dict]]

FORMATS: dict[str, Reader] = {
    "nli_tsv": read_nli_tsv,
    "nli_jsonl": read_nli_jsonl,
    "anli_csv": read_anli_csv,
    "pawsx_tsv": read_pawsx_tsv,
    "qqp_tsv": read_qqp_tsv,
    "conllu": read_conllu,
    "token_tag": read_token_tag,
    "squad_json": read_squad_json,
    "hellaswag_jsonl": read_hellaswag_jsonl,
    "cosmosqa": read_cosmosqa,
    "commonsenseqa_jsonl": read_commonsenseqa_jsonl,
    "schema_jsonl": read_schema_jsonl,
}
