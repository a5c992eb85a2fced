"""Load the official XTREME and intermediate-task datasets into the xstilts schema.

Two routes, one entry point (:func:`load`):

- **Local files** in the official layouts (``official_layout(task)`` lists them): the
  XTREME ``download/`` folder written by google-research/xtreme ``scripts/download_data.sh``,
  or the original releases (XNLI 1.0, PAWS-X ``x-final``, UD treebanks, PAN-X, SQuAD, MLQA_V1,
  TyDiQA-GoldP, BUCC 2018, LASER Tatoeba, GLUE, ANLI, SNLI, HellaSwag, Cosmos QA,
  CommonsenseQA), plus the user layout ``<root>/<task>/<split>/<lang>.jsonl`` with rows already
  in our schema (how machine-translated intermediate data of any task is supplied).
- **Hugging Face hub names** (``google/xtreme``, ``nyu-mll/glue``, ``rajpurkar/squad`` ...),
  resolved by ``datasets.load_dataset`` from the local cache only (the package runs offline).

A missing source raises :class:`DataSourceError` at once, with one line naming the dataset,
the places looked in and how to provide it. :func:`materialize` writes the dataset folder
``<out>/<task>/<split>/<lang>.jsonl`` and returns a data card.

Per-format readers live in :mod:`xstilts.data.formats`.
"""

from __future__ import annotations

import glob
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from xstilts import io
from xstilts.data import formats as F
from xstilts.xtreme import TARGET_TASKS
from xstilts.xtreme import task as task_spec

DataFormatError = F.DataFormatError


class DataSourceError(FileNotFoundError):
    """A dataset is not where the configuration says (no file, no cached hub copy)."""


# --- language codes -----------------------------------------------------------------------------

# LASER/Tatoeba ISO 639-3 codes, as XTREME's utils_preprocess.py maps them.
TATOEBA_LANG3 = {
    "af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell", "es": "spa",
    "et": "est", "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin",
    "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz",
    "ko": "kor", "ml": "mal", "mr": "mar", "nl": "nld", "pt": "por", "ru": "rus", "sw": "swh",
    "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl", "tr": "tur", "ur": "urd", "vi": "vie",
    "zh": "cmn", "en": "eng",
}  # fmt: skip
# English language names: TyDiQA file names / id prefixes and google/xtreme udpos configs.
LANG_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "eu": "Basque",
    "fa": "Persian", "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi",
    "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "kk": "Kazakh",
    "ko": "Korean", "mr": "Marathi", "nl": "Dutch", "pt": "Portuguese", "ru": "Russian",
    "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog",
    "tr": "Turkish", "ur": "Urdu", "vi": "Vietnamese", "yo": "Yoruba", "zh": "Chinese",
}  # fmt: skip

# --- licences and download hints ---------------------------------------------------------------

LICENCES: dict[str, str] = {
    "xnli": "CC BY-NC 4.0 (XNLI 1.0)",
    "pawsx": "PAWS-X terms: free for any purpose, attribution to Google appreciated",
    "udpos": "per treebank (UD v2.5; mostly CC BY-SA 4.0, some CC BY-NC-SA); see each LICENSE.txt",
    "panx": "unspecified by Pan et al. 2017 (WikiANN); Wikipedia-derived text is CC BY-SA 3.0",
    "xquad": "CC BY-SA 4.0",
    "mlqa": "CC BY-SA 3.0",
    "tydiqa": "Apache 2.0",
    "bucc2018": "BUCC 2018 shared-task data, research use (Wikipedia / News Commentary)",
    "tatoeba": "CC BY 2.0 FR (tatoeba.org)",
    "mnli": "OANC (free) with parts under CC BY-SA 3.0 (MultiNLI)",
    "snli": "CC BY-SA 4.0",
    "anli": "CC BY-NC 4.0 (ANLI); ANLI+ adds MNLI and SNLI under their licences",
    "qqp": "Quora terms of service, non-commercial research use",
    "squad_v1": "CC BY-SA 4.0",
    "squad_v2": "CC BY-SA 4.0",
    "hellaswag": "MIT",
    "cosmosqa": "CC BY 4.0",
    "commonsenseqa": "MIT",
    "ccg": "LDC User Agreement (CCGbank LDC2005T13); not redistributable, convert your own copy",
    "mlm": "Wikipedia text CC BY-SA 3.0 / CC-100 (Common Crawl terms)",
}

_XT = "google-research/xtreme's scripts/download_data.sh on a connected machine"
DOWNLOAD: dict[str, str] = {
    **{t: f"download it with {_XT}" for t in TARGET_TASKS},
    "panx": f"fetch AmazonPhotos.zip by hand (see google-research/xtreme README), then run {_XT}",
    "mnli": "download GLUE MNLI (or multinli_1.0.zip) on a connected machine",
    "anli": "download anli_v1.0.zip, snli_1.0.zip and GLUE MNLI into <root>/{anli,snli,mnli}",
    "qqp": "download GLUE QQP on a connected machine",
    "squad_v1": "download train-v1.1.json / dev-v1.1.json (rajpurkar/SQuAD-explorer)",
    "squad_v2": "download train-v2.0.json / dev-v2.0.json (rajpurkar/SQuAD-explorer)",
    "hellaswag": "download hellaswag_{train,val}.jsonl (rowanz/hellaswag)",
    "cosmosqa": "download Cosmos QA train/valid (wilburOne/cosmosqa)",
    "commonsenseqa": "download {train,dev}_rand_split.jsonl (tau-nlp.org/commonsenseqa)",
    "ccg": "CCG needs CCGbank, which is licensed by the LDC (LDC2005T13, "
    "catalog.ldc.upenn.edu/LDC2005T13) and cannot be downloaded by a script: convert your "
    "copy to <root>/ccg/<split>.tsv (token<TAB>supertag per line, blank line between "
    "sentences), or list ccg in intermediate.skip_if_absent to plan it out",
}

# Where XTREME's download_data.sh writes a split without its gold labels (or blanks the QA
# answers), the labelled release a user needs instead; the loader appends it to the error.
LABELLED_RELEASE: dict[str, str] = {
    "xnli": "get the labelled XNLI-1.0.zip from the XNLI site (dl.fbaipublicfiles.com/XNLI/"
    "XNLI-1.0.zip) and put xnli.test.tsv in <root>/xnli/XNLI-1.0/",
    "pawsx": "get the labelled PAWS-X x-final release (storage.googleapis.com/paws/pawsx/"
    "x-final.tar.gz) and unpack it into <root>/pawsx/ (x-final/<lang>/test_2k.tsv)",
    "panx": "get the labelled WikiANN/PAN-X release (AmazonPhotos.zip, Rahimi et al. splits, "
    "see google-research/xtreme's README) and unpack <lang>.tar.gz into <root>/panx/panx_dataset/<lang>/",
    "udpos": "get the labelled UD treebanks (XTREME: ud-treebanks-v2.5.tgz, hdl.handle.net/11234/"
    "1-3105; XTREME-R: v2.7, 11234/1-3424) and unpack them into <root>/udpos/",
    "xquad": "get the labelled DeepMind originals xquad.<lang>.json (github.com/google-deepmind/"
    "xquad) into <root>/xquad/, replacing XTREME's blanked copies",
    "mlqa": "get the labelled MLQA_V1.zip (dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip) and unpack "
    "it into <root>/mlqa/, replacing XTREME's blanked copies",
    "tydiqa": "get the labelled TyDiQA-GoldP dev set (storage.googleapis.com/tydiqa/v1.1/"
    "tydiqa-goldp-v1.1-dev.tgz, tydiqa-goldp-dev-<language>.json) into <root>/tydiqa/"
    "tydiqa-goldp-v1.1-dev/, replacing XTREME's blanked tydiqa.goldp.<lang>.dev.json",
    "bucc2018": "get the labelled BUCC 2018 release bucc2018-<lang>-en.training-gold.tar.bz2 "
    "(comparable.limsi.fr/bucc2018; XTREME's test is its training split) and unpack it into "
    "<root>/ (bucc2018/<lang>-en/<lang>-en.training.{<lang>,en,gold})",
}
_LASER_TATOEBA = "facebookresearch/LASER data/tatoeba/v1"

# --- local layouts ------------------------------------------------------------------------------

# A candidate is (format, pattern relative to the task folder, holds_all_languages). Patterns
# use {lang} {lang3} {lname} {qlang} {split} {task}; "*" globs (all matches are concatenated).
# A pattern without a language placeholder is English-only unless holds_all_languages is set
# (the reader then filters by language).
Cand = tuple[str, str, bool]
_XT_SPLIT = {"train": "train", "dev": "dev", "test": "test"}


def _c(fmt: str, *patterns: str, all_langs: bool = False) -> list[Cand]:
    return [(fmt, p, all_langs) for p in patterns]


_USER = _c("schema_jsonl", "{task}/{split}/{lang}.jsonl", "{split}/{lang}.jsonl")
_NLI_TT = _c(
    "nli_tsv",
    "XNLI-Translated/en-{lang}-translated.tsv",
    "translate-train/en-{lang}-translated.tsv",
    "../xnli/XNLI-Translated/en-{lang}-translated.tsv",
    "XNLI-MT-1.0/multinli/multinli.train.{lang}.tsv",
    "../xnli/XNLI-MT-1.0/multinli/multinli.train.{lang}.tsv",
)
_MNLI = {
    "train": _c("nli_tsv", "train.tsv", "MNLI/train.tsv")
    + _c("nli_jsonl", "multinli_1.0/multinli_1.0_train.jsonl", "multinli_1.0_train.jsonl")
    + _NLI_TT,
    "dev": _c("nli_tsv", "dev_matched.tsv", "MNLI/dev_matched.tsv")
    + _c(
        "nli_jsonl", "multinli_1.0/multinli_1.0_dev_matched.jsonl", "multinli_1.0_dev_matched.jsonl"
    ),
}
_XNLI_EVAL = {
    s: _c("nli_tsv", f"{s}-{{lang}}.tsv")
    + _c("nli_tsv", f"XNLI-1.0/xnli.{s}.tsv", f"xnli.{s}.tsv", all_langs=True)
    for s in ("dev", "test")
}
_SNLI = {
    s: _c("nli_jsonl", f"snli_1.0/snli_1.0_{s}.jsonl", f"snli_1.0_{s}.jsonl")
    for s in ("train", "dev")
}
# ANLI's annotated copies of the dev rounds (anli_annot_v0.2) stand in when the jsonl is absent.
_ANLI_CSV = "ANLI_analysis_r{0}_dev.csv"
_ANLI_ROUND = {
    s: [
        _c("nli_jsonl", f"anli_v1.0/R{r}/{s}.jsonl", f"R{r}/{s}.jsonl")
        + (_c("anli_csv", _ANLI_CSV.format(r), "anli_annot_v0.2/" + _ANLI_CSV.format(r))
           if s == "dev" else [])
        for r in (1, 2, 3)
    ]
    for s in ("train", "dev")
}  # fmt: skip
_TT_QA = "translate-train/{0}.translate.train.en-{{lang}}.json"
_MLQA = "{split}-context-{lang}-question-{qlang}.json"
_UD = _c("token_tag", "{split}-{lang}.tsv") + _c(
    "conllu",
    "ud-treebanks-v2.5/*/{lang}_*-ud-{split}.conllu",
    "ud-treebanks-v2.7/*/{lang}_*-ud-{split}.conllu",
    "*/{lang}_*-ud-{split}.conllu",
    "{lang}_*-ud-{split}.conllu",
)
_PANX = _c(
    "token_tag",
    "{split}-{lang}.tsv",
    "panx_dataset/{lang}/{split}",
    "{lang}/{split}",
    "panx_dataset/{lang}-{split}",
)
_BUCC_STEMS = {
    "dev": ("{lang}-en.dev", "{lang}-en.sample", "{lang}-en/{lang}-en.sample"),
    "test": ("{lang}-en.test", "{lang}-en.training", "{lang}-en/{lang}-en.training"),
}
# LASER originals first (line i of .xxx translates line i of .eng), also in a tatoeba-laser/
# folder beside XTREME's tatoeba/; jiant's sorted copy carries its .labels order; XTREME's own
# <lang>-en.{<lang>,en} sorts the English side without a labels file, so it is only recognised
# in order to say so (tatoeba_xtreme_sorted).
_TATOEBA = (
    _c(
        "tatoeba_laser",
        "tatoeba.{lang3}-eng",
        "v1/tatoeba.{lang3}-eng",
        "LASER-master/data/tatoeba/v1/tatoeba.{lang3}-eng",
        "../tatoeba-laser/tatoeba.{lang3}-eng",
        "tatoeba-laser/tatoeba.{lang3}-eng",
    )
    + _c("tatoeba_jiant", "{lang}-en", "tatoeba_{lang}/{lang}-en")
    + _c("tatoeba_xtreme_sorted", "{lang}-en")
)

# task -> (folder under the data root, {split: [part, ...]}); a part is a candidate list and
# the rows of all parts are concatenated (ANLI+ = ANLI R1-R3 + MNLI + SNLI).
LAYOUTS: dict[str, tuple[str, dict[str, list[list[Cand]]]]] = {
    "xnli": ("xnli", {"train": [_c("nli_tsv", "train-{lang}.tsv") + _NLI_TT]}
             | {s: [c] for s, c in _XNLI_EVAL.items()}),
    "mnli": ("mnli", {s: [c] for s, c in _MNLI.items()}),
    "pawsx": ("pawsx", {
        "train": [_c("pawsx_tsv", "train-{lang}.tsv", "x-final/{lang}/train.tsv",
                     "{lang}/train.tsv", "x-final/{lang}/translated_train.tsv",
                     "translated/en-{lang}-translated.tsv")],
        "dev": [_c("pawsx_tsv", "dev-{lang}.tsv", "x-final/{lang}/dev_2k.tsv", "{lang}/dev_2k.tsv")],
        "test": [_c("pawsx_tsv", "test-{lang}.tsv", "x-final/{lang}/test_2k.tsv",
                    "{lang}/test_2k.tsv")]}),
    "udpos": ("udpos", {s: [_UD] for s in _XT_SPLIT}),
    "panx": ("panx", {s: [_PANX] for s in _XT_SPLIT}),
    # XQuAD and Tatoeba have one evaluation set, the test split; there is no dev split to
    # select on (XQuAD selects on SQuAD v1.1 dev: xtreme.SELECTION_TASK).
    "xquad": ("xquad", {"test": [_c("squad_json", "xquad.{lang}.json")]}),
    "mlqa": ("mlqa", {s: [_c("squad_json", f"MLQA_V1/{s}/" + _MLQA, f"{s}/" + _MLQA, _MLQA)]
                      for s in ("dev", "test")}),
    "tydiqa": ("tydiqa", {
        "train": [_c("squad_json", "tydiqa-goldp-v1.1-train/tydiqa.goldp.{lang}.train.json",
                     "tydiqa.goldp.{lang}.train.json", _TT_QA.format("tydiqa"))
                  + _c("tydiqa_json", "tydiqa-goldp-v1.1-train.json",
                       "tydiqa-goldp-v1.1-train/tydiqa-goldp-v1.1-train.json", all_langs=True)],
        # TyDiQA-GoldP has no labelled test set; XTREME reports its dev set as test. Our dev
        # split is a seeded held-out part of the English train (xtreme.HELDOUT_DEV).
        "test": [_c("squad_json", "tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{lname}.json",
                    "tydiqa-goldp-dev-{lname}.json", "tydiqa-goldp-v1.1-dev/tydiqa.goldp.{lang}.dev.json",
                    "tydiqa.goldp.{lang}.dev.json")]}),
    "bucc2018": ("bucc2018", {s: [_c("bucc", *stems)] for s, stems in _BUCC_STEMS.items()}),
    "tatoeba": ("tatoeba", {"test": [_TATOEBA]}),
    "squad_v1": ("squad", {
        "train": [_c("squad_json", "train-v1.1.json", _TT_QA.format("squad"))],
        "dev": [_c("squad_json", "dev-v1.1.json")]}),
    "squad_v2": ("squad", {"train": [_c("squad_json", "train-v2.0.json")],
                           "dev": [_c("squad_json", "dev-v2.0.json")]}),
    "anli": ("anli", {s: [*_ANLI_ROUND[s], [(f, "../mnli/" + p, a) for f, p, a in _MNLI[s]],
                          [(f, "../snli/" + p, a) for f, p, a in _SNLI[s]]] for s in ("train", "dev")}),
    "qqp": ("qqp", {s: [_c("qqp_tsv", f"{s}.tsv", f"QQP/{s}.tsv")] for s in ("train", "dev")}),
    "hellaswag": ("hellaswag", {s: [_c("hellaswag_jsonl", f"hellaswag_{o}.jsonl", f"data/hellaswag_{o}.jsonl")]
                                for s, o in (("train", "train"), ("dev", "val"))}),
    "cosmosqa": ("cosmosqa", {s: [_c("cosmosqa", f"{o}.jsonl", f"{o}.csv", f"data/{o}.jsonl", f"data/{o}.csv")]
                              for s, o in (("train", "train"), ("dev", "valid"))}),
    "commonsenseqa": ("commonsenseqa", {s: [_c("commonsenseqa_jsonl", f"{o}_rand_split.jsonl")]
                                        for s, o in (("train", "train"), ("dev", "dev"))}),
    "ccg": ("ccg", {s: [_c("token_tag", f"{s}.tsv", f"ccg.{s}.tsv")] for s in _XT_SPLIT}),
}  # fmt: skip


def _tydiqa_json(path: Path, lang: str) -> list[dict]:
    # The combined GoldP train file prefixes ids with the language name ("english-123-0").
    name = LANG_NAMES[lang].lower()
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return F.squad_rows(data, lang, str(path), id_filter=lambda qid: qid.split("-")[0] == name)


def _bucc(stem: Path, lang: str) -> tuple[list[dict], list[dict]]:
    gold = stem.with_name(stem.name + ".gold")
    if not gold.exists():  # a later stem with gold (the labelled release) is tried next
        raise F.LabelsStrippedError(
            f"{stem}.{{{lang},en}} has no {gold.name} (XTREME's download_data.sh deletes the "
            "BUCC test gold)", LABELLED_RELEASE["bucc2018"],
        )  # fmt: skip
    return F.read_bucc(
        stem.with_name(f"{stem.name}.{lang}"), stem.with_name(stem.name + ".en"), gold, lang
    )


# Pair formats: the pattern names a stem; these are the files that must exist beside it.
_PAIR_FILES: dict[str, Callable[[str, str], tuple[str, ...]]] = {
    "bucc": lambda stem, lang: (f"{stem}.{lang}", f"{stem}.en"),
    "tatoeba_laser": lambda stem, lang: (f"{stem}.{TATOEBA_LANG3[lang]}", f"{stem}.eng"),
    "tatoeba_jiant": lambda stem, lang: (f"{stem}.{lang}", f"{stem}.en", f"{stem}.labels"),
    "tatoeba_xtreme_sorted": lambda stem, lang: (f"{stem}.{lang}", f"{stem}.en"),
}


def _tatoeba_sorted(stem: Path, lang: str):
    l3 = TATOEBA_LANG3[lang]
    raise DataFormatError(
        f"{stem}.{{{lang},en}} is XTREME's processed Tatoeba copy, whose English side is sorted "
        f"alphabetically (not the gold alignment); get LASER's tatoeba.{l3}-eng.{{{l3},eng}} "
        f"({_LASER_TATOEBA}) into <root>/tatoeba-laser/"
    )


_PAIR_READERS: dict[str, Callable] = {
    "bucc": _bucc,
    "tatoeba_laser": lambda stem, lang: (
        F.read_tatoeba(*(Path(p) for p in _PAIR_FILES["tatoeba_laser"](str(stem), lang)), lang),
        None,
    ),
    "tatoeba_jiant": lambda stem, lang: (
        F.read_tatoeba(Path(f"{stem}.{lang}"), Path(f"{stem}.en"), lang, Path(f"{stem}.labels")),
        None,
    ),
    "tatoeba_xtreme_sorted": _tatoeba_sorted,
}
FILE_READERS: dict[str, F.Reader] = {**F.FORMATS, "tydiqa_json": _tydiqa_json}


def _read_file(task: str, fmt: str, path: Path, lang: str) -> list[dict]:
    """Read one file; a stripped XTREME split names the labelled release of ``task``."""
    try:
        return FILE_READERS[fmt](path, lang)
    except F.LabelsStrippedError as e:
        if task not in LABELLED_RELEASE:
            raise
        raise F.LabelsStrippedError(e.detail, LABELLED_RELEASE[task]) from None


def _fill(pattern: str, task: str, split: str, lang: str, qlang: str) -> str:
    return pattern.format(
        task=task, split=split, lang=lang, qlang=qlang,
        lang3=TATOEBA_LANG3.get(lang, lang), lname=LANG_NAMES.get(lang, lang).lower(),
    )  # fmt: skip


def _language_aware(pattern: str, all_langs: bool) -> bool:
    return all_langs or any(k in pattern for k in ("{lang", "{lname", "{qlang"))


def _find_hits(
    part: list[Cand], bases: list[Path], task: str, split: str, lang: str, qlang: str, looked: list
) -> Iterator[tuple[str, list[Path], bool]]:
    """Yield (format, paths, holds_all_languages) of each existing candidate, in order."""
    for fmt, pattern, all_langs in part:
        if lang != "en" and not _language_aware(pattern, all_langs):
            continue  # an English-only file must never stand in for another language
        for base in bases:
            rel = _fill(pattern, task, split, lang, qlang)
            target = base / rel
            looked.append(str(target))
            if fmt in _PAIR_FILES:
                if all(Path(p).exists() for p in _PAIR_FILES[fmt](str(target), lang)):
                    yield fmt, [target], all_langs
            elif "*" in rel:
                hits = sorted(glob.glob(str(target)))
                if hits:
                    yield fmt, [Path(h) for h in hits], all_langs
            elif target.is_file():
                yield fmt, [target], all_langs


def _find_part(*args) -> tuple[str, list[Path], bool] | None:
    """Return the first existing candidate of :func:`_find_hits`, or None."""
    return next(_find_hits(*args), None)


def _read_part(task: str, part: list[Cand], bases: list[Path], split, lang, qlang, looked):
    """Read the first existing candidate of one part; None when no candidate exists.

    A file XTREME wrote without labels yields to a later labelled candidate (XNLI-1.0 or
    x-final unpacked beside XTREME's test files); only when none follows is its error raised.
    """
    stripped = None
    for fmt, paths, all_langs in _find_hits(part, bases, task, split, lang, qlang, looked):
        rows, gold = [], None
        try:
            for p in paths:
                if fmt in _PAIR_READERS:
                    got, gold = _PAIR_READERS[fmt](p, lang)
                else:
                    got = _read_file(task, fmt, p, lang)
                rows += got
        except F.LabelsStrippedError as e:
            stripped = stripped or e
            continue
        return paths, all_langs, rows, gold
    if stripped is not None:
        raise stripped
    return None


def _bases(folder: str, root: Path) -> list[Path]:
    # Also when root is absent: the paths then only serve the error message.
    return [root / folder, root] if not root.is_file() else []


def _read_user(task, split, lang, roots, qlang, looked):
    """Rows of the user layout (our schema), which wins over any official file; None if absent."""
    folder = LAYOUTS[task][0]
    for root in roots:
        hit = _find_part(_USER, _bases(folder, root), task, split, lang, qlang, looked)
        if hit is not None:
            rows = F.read_schema_jsonl(hit[1][0], lang)
            gold_path = hit[1][0].with_name(f"{lang}.gold.jsonl")
            gold = io.read_jsonl(gold_path) if gold_path.exists() else None
            return rows, gold, [str(hit[1][0])]
    return None


def _read_chain(task, part, roots, split, lang, qlang, looked):
    """Read one part from the first root that has it (a labels-stripped file yields to the next)."""
    stripped = None
    for root in roots:
        try:
            hit = _read_part(task, part, _bases(LAYOUTS[task][0], root), split, lang, qlang, looked)
        except F.LabelsStrippedError as e:
            stripped = stripped or e
            continue
        if hit is not None:
            return hit
    if stripped is not None:
        raise stripped
    return None


def _read_local(task: str, split: str, lang: str, roots: list[Path], qlang: str):
    """Rows, gold and the files read, from local roots searched file by file in order."""
    _folder, splits = LAYOUTS[task]
    user_looked: list[str] = []  # reported after the official places
    user = _read_user(task, split, lang, roots, qlang, user_looked)
    if user is not None:
        return user
    if split not in splits:
        raise DataSourceError(
            f"{task} has no {split!r} split in its official release (has: {', '.join(splits)})"
        )
    rows, gold, parts, read = [], None, [], []
    if len(roots) == 1 and roots[0].is_file():  # a single file: the first format that fits
        root = roots[0]
        fits = [f for f, p, _ in splits[split][0] if Path(p).suffix == root.suffix]
        fmt = fits[0] if fits else splits[split][0][0][0]
        return _read_file(task, fmt, root, lang), None, [str(root)]
    for k, part in enumerate(splits[split]):
        # Only the missing part's places (ANLI+: not the rounds that were found).
        looked: list[str] = []
        hit = _read_chain(task, part, roots, split, lang, qlang, looked)
        if hit is None:
            places = list(dict.fromkeys(looked + user_looked)) or [str(r) for r in roots]
            raise _missing(task, split, lang, places, hub=None)
        paths, all_langs, got, gold = hit
        if all_langs and not got:  # e.g. xnli.dev.tsv has no rows for this language
            raise _missing(task, split, lang, [f"{paths[0]} (no {lang!r} rows)"], hub=None)
        if len(splits[split]) > 1:  # ANLI+: keep ids unique across its sources
            for r in got:
                r["id"] = f"{k}:{r['id']}"
        rows += got
        read += [str(p) for p in paths]
        if task == "mlqa":
            for r in rows:
                r["question_lang"] = qlang
        parts.append(len(rows))
    if len(parts) > 1 and split != "train":
        rows = interleave_parts(rows, parts)
    return rows, gold, read


def locate(task: str, split: str, lang: str, roots: Sequence) -> list[str] | None:
    """The local files that hold (task, split, lang) under ``roots``, or None (nothing read).

    Used at plan time (``xstilts.grid``) to plan out licensed data that is absent. Hub
    names are not resolved (None).
    """
    local = [Path(r).expanduser() for r in roots if r is not None and _is_local(r)]
    if not local or task not in LAYOUTS:
        return None
    looked: list[str] = []
    folder, splits = LAYOUTS[task]
    for root in local:
        hit = _find_part(_USER, _bases(folder, root), task, split, lang, lang, looked)
        if hit is not None:
            return [str(hit[1][0])]
    found = []
    for part in splits.get(split, []):
        hit = next(
            (h for r in local if (h := _find_part(part, _bases(folder, r), task, split, lang,
                                                    lang, looked))), None,
        )  # fmt: skip
        if hit is None:
            return None
        found += [str(p) for p in hit[1]]
    return found or None


def interleave_parts(rows: list[dict], ends: list[int]) -> list[dict]:
    """Interleave the rows of concatenated sources round-robin (first of each, second ...).

    The trainer early-stops on the first ``dev_subset`` dev rows; for ANLI+ (ANLI R1-R3 +
    MNLI + SNLI) concatenation would make that subset ANLI round 1 only. Round-robin keeps
    the order deterministic and draws the subset from every source alike.

    Args:
        rows: Rows of all sources, concatenated.
        ends: Cumulative row count after each source.

    Returns:
        The same rows, reordered.

    """
    starts = [0, *ends[:-1]]
    sources = [rows[a:b] for a, b in zip(starts, ends)]
    longest = max((len(src) for src in sources), default=0)
    return [src[i] for i in range(longest) for src in sources if i < len(src)]


# --- hub route ----------------------------------------------------------------------------------

HF_SPLITS = {"train": "train", "dev": "validation", "test": "test"}


def _squad_hub(r: dict, lang: str, i: int) -> dict:
    a = r["answers"]
    return {
        "id": str(r.get("id", i)), "lang": lang, "context": r["context"],
        "question": r["question"],
        "answers": {"text": list(a["text"]), "answer_start": [int(s) for s in a["answer_start"]]},
    }  # fmt: skip


def _tag_hub(tag_col: str):
    def conv(r: dict, lang: str, i: int) -> dict:
        return {"id": str(i), "lang": lang, "tokens": list(r["tokens"]), "tags": list(r[tag_col])}

    return conv


def _pawsx_hub(r, lang, i):
    return {"id": str(r.get("id", i)), "lang": lang, "text_a": r["sentence1"],
            "text_b": r["sentence2"], "label": str(int(float(r["label"])))}  # fmt: skip


def _qqp_hub(r, lang, i):
    label = {"not_duplicate": "0", "duplicate": "1"}.get(str(r["label"]), str(r["label"]))
    return {"id": str(r.get("idx", i)), "lang": lang, "text_a": r["question1"],
            "text_b": r["question2"], "label": label}  # fmt: skip


def _pair_hub(r, lang, i):
    src, trg = r["source_sentence"].strip(), r["target_sentence"].strip()
    if str(r.get("source_lang", "")).startswith("en"):  # keep src = the non-English side
        src, trg = trg, src
    return {"id": f"tatoeba-{lang}-{i}", "lang": lang, "src": src, "trg": trg}


# task -> {default hub name, config(lang, qlang), split names, row filter, row converter}.
HUB: dict[str, dict] = {
    "xnli": {"name": "google/xtreme", "config": lambda lang, q: "XNLI",
             "filter": lambda r, lang: r.get("language", lang) == lang,
             "convert": lambda r, lang, i: F.nli_row(r, lang, str(i))},
    "pawsx": {"name": "google/xtreme", "config": lambda lang, q: f"PAWS-X.{lang}",
              "convert": _pawsx_hub},
    "udpos": {"name": "google/xtreme", "config": lambda lang, q: f"udpos.{LANG_NAMES[lang]}",
              "convert": _tag_hub("pos_tags")},
    "panx": {"name": "google/xtreme", "config": lambda lang, q: f"PAN-X.{lang}",
             "convert": _tag_hub("ner_tags")},
    "xquad": {"name": "google/xtreme", "config": lambda lang, q: f"XQuAD.{lang}",
              "splits": {"test": "validation"}, "convert": _squad_hub},
    "mlqa": {"name": "google/xtreme", "config": lambda lang, q: f"MLQA.{lang}.{q}",
             "convert": lambda r, lang, i: _squad_hub(r, lang, i)},
    "tydiqa": {"name": "google/xtreme", "config": lambda lang, q: "tydiqa",
               "splits": {"train": "train", "test": "validation"},
               "filter": lambda r, lang: r["id"].split("-")[0] == LANG_NAMES[lang].lower(),
               "convert": _squad_hub},
    "bucc2018": {"name": "google/xtreme", "config": lambda lang, q: f"bucc18.{lang}",
                 "convert": None},
    "tatoeba": {"name": "google/xtreme", "config": lambda lang, q: f"tatoeba.{TATOEBA_LANG3[lang]}",
                "splits": {"test": "validation"}, "convert": _pair_hub},
    "mnli": {"name": "nyu-mll/glue", "config": lambda lang, q: "mnli",
             "splits": {"train": "train", "dev": "validation_matched"},
             "convert": lambda r, lang, i: F.nli_row(r, lang, str(i))},
    "qqp": {"name": "nyu-mll/glue", "config": lambda lang, q: "qqp", "convert": _qqp_hub},
    "squad_v1": {"name": "rajpurkar/squad", "convert": _squad_hub},
    "squad_v2": {"name": "rajpurkar/squad_v2", "convert": _squad_hub},
    "anli": {"name": "facebook/anli", "splits": {"train": "train_r1", "dev": "dev_r1"},
             "convert": lambda r, lang, i: F.nli_row(r, lang, str(i))},
    "hellaswag": {"name": "Rowan/hellaswag",
                  "convert": lambda r, lang, i: F.hellaswag_row(r, lang, str(i))},
    "cosmosqa": {"name": "allenai/cosmos_qa",
                 "convert": lambda r, lang, i: F.cosmosqa_row(r, lang, str(i))},
    "commonsenseqa": {"name": "tau/commonsense_qa",
                      "convert": lambda r, lang, i: F.commonsenseqa_row(r, lang, str(i))},
}  # fmt: skip
# The hub ANLI has three rounds as separate splits; ANLI+ adds MNLI and SNLI.
_ANLI_PLUS_HUB = {
    "train": [("facebook/anli", None, f"train_r{r}") for r in (1, 2, 3)]
    + [("nyu-mll/glue", "mnli", "train"), ("stanfordnlp/snli", None, "train")],
    "dev": [("facebook/anli", None, f"dev_r{r}") for r in (1, 2, 3)]
    + [("nyu-mll/glue", "mnli", "validation_matched"), ("stanfordnlp/snli", None, "validation")],
}


def _hf_home() -> Path:
    xdg = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("HF_HOME", xdg / "huggingface"))


def hf_cache_dirs(name: str) -> list[Path]:
    """Return where an offline ``load_dataset(name)`` can find a cached copy."""
    ds_cache = Path(os.environ.get("HF_DATASETS_CACHE", _hf_home() / "datasets"))
    hub_cache = Path(
        os.environ.get("HF_HUB_CACHE", os.environ.get("HUGGINGFACE_HUB_CACHE", _hf_home() / "hub"))
    )
    return [
        ds_cache / name.replace("/", "___"),
        hub_cache / ("datasets--" + name.replace("/", "--")),
    ]


def _offline() -> bool:
    return os.environ.get("HF_DATASETS_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def _hub_load(task, split, lang, qlang, name, config, hf_split):
    """Load one hub split offline; ``DataSourceError`` at once when it is not cached."""
    where = f"{name}" + (f" ({config})" if config else "")
    # Check the cache folders first: it is instant, and it keeps `import datasets` (~1.5 s)
    # and the offline resolution off the error path.
    if _offline() and not any(d.exists() for d in hf_cache_dirs(name)):
        raise _missing(task, split, lang, [], hub=where)
    import datasets  # heavy; imported only on the hub route

    try:
        ds = datasets.load_dataset(name, config, split=hf_split)
    except Exception as e:  # ConnectionError, FileNotFoundError, DatasetNotFoundError, ValueError
        raise _missing(task, split, lang, [], hub=where, cause=e) from e
    return ds


def _class_names(ds) -> dict[str, Callable]:
    # ClassLabel columns (and lists of them) come back as ints; the schema stores names.
    out = {}
    for col, feat in ds.features.items():
        inner = getattr(feat, "feature", None)
        if hasattr(feat, "int2str"):
            out[col] = lambda v, f=feat: f.int2str(v) if isinstance(v, int) and v >= 0 else v
        elif inner is not None and hasattr(inner, "int2str"):
            out[col] = lambda v, f=inner: [f.int2str(x) for x in v]
    return out


def _read_hub(task: str, split: str, lang: str, qlang: str, name: str | None):
    spec = HUB.get(task)
    if spec is None:
        raise _missing(task, split, lang, [], hub="no hub copy exists")
    explicit_config = None
    if name and ":" in name:  # "facebook/xnli:de" names the config explicitly
        name, explicit_config = name.split(":", 1)
    name = name or spec["name"]
    if task == "anli" and name == spec["name"] and explicit_config is None:
        jobs = _ANLI_PLUS_HUB.get(split, [])
    else:
        config = explicit_config or (
            spec["config"](lang, qlang) if name == spec["name"] and "config" in spec else None
        )
        if "splits" in spec and split not in spec["splits"]:
            raise DataSourceError(
                f"{task} has no {split!r} split in its official release "
                f"(has: {', '.join(spec['splits'])})"
            )
        jobs = [(name, config, spec.get("splits", HF_SPLITS).get(split, split))]
    rows, gold, parts = [], None, []
    for k, (nm, cfg, hf_split) in enumerate(jobs):
        ds = _hub_load(task, split, lang, qlang, nm, cfg, hf_split)
        names = _class_names(ds)
        for i, r in enumerate(ds):
            r = {c: names[c](v) if c in names else v for c, v in r.items()}
            if "filter" in spec and not spec["filter"](r, lang):
                continue
            if task == "bucc2018":  # the hub copy holds only the gold pairs, no distractors
                sid, tid = f"{lang}-{i:09d}", f"en-{i:09d}"
                rows += [{"id": sid, "lang": lang, "side": "src", "text": r["source_sentence"]},
                         {"id": tid, "lang": lang, "side": "trg", "text": r["target_sentence"]}]  # fmt: skip
                gold = (gold or []) + [{"src_id": sid, "trg_id": tid}]
                continue
            row = spec["convert"](r, lang, i)
            if row is not None:
                row["id"] = f"{k}:{row['id']}" if len(jobs) > 1 else row["id"]
                rows.append(row)
        parts.append(len(rows))
    if len(jobs) > 1 and split != "train":
        rows = interleave_parts(rows, parts)
    if task == "bucc2018":
        rows.sort(key=lambda r: r["side"] != "src")
    if task == "mlqa":
        for r in rows:
            r["question_lang"] = qlang
    return rows, gold


# --- public API ---------------------------------------------------------------------------------

DISPLAY = {
    "xnli": "XNLI", "pawsx": "PAWS-X", "udpos": "UD-POS", "panx": "PAN-X", "xquad": "XQuAD",
    "mlqa": "MLQA", "tydiqa": "TyDiQA-GoldP", "bucc2018": "BUCC 2018", "tatoeba": "Tatoeba",
    "anli": "ANLI+", "mnli": "MNLI", "qqp": "QQP", "squad_v1": "SQuAD v1.1",
    "squad_v2": "SQuAD v2.0", "hellaswag": "HellaSwag", "cosmosqa": "Cosmos QA",
    "commonsenseqa": "CommonsenseQA", "ccg": "CCG", "mlm": "MLM corpus",
}  # fmt: skip
# Sources read as hub ids; any other string is a local path unless it starts with "hf://".
KNOWN_HUB_NAMES = {spec["name"] for spec in HUB.values()} | {
    name for jobs in _ANLI_PLUS_HUB.values() for name, _, _ in jobs
} | {"facebook/xnli", "google-research-datasets/paws-x", "unimelb-nlp/wikiann", "facebook/mlqa",
     "google/xquad", "stanfordnlp/snli"}  # fmt: skip


def _missing(task, split, lang, looked, hub=None, cause=None) -> DataSourceError:
    """Build the error for one source; ``places`` lets :func:`load` merge several sources."""
    places = []
    if looked:
        more = f" (+{len(looked) - 2} other layouts)" if len(looked) > 2 else ""
        places.append(", ".join(looked[:2]) + more)
    if hub:
        why = f", {type(cause).__name__}" if cause is not None else ""
        places.append(f"the HF datasets cache {_hf_home() / 'datasets'} ({hub}{why})")
    err = _missing_from(task, split, lang, " and ".join(places))
    err.places = places
    return err


def _missing_from(task, split, lang, places: str) -> DataSourceError:
    return DataSourceError(
        f"{DISPLAY.get(task, task)} {split} ({lang}) not found: looked in {places}; "
        f"{DOWNLOAD.get(task, 'see the README')} and set data.sources.{task} in params to its folder"
    )


def _is_local(source) -> bool:
    s = str(source)
    if isinstance(source, os.PathLike) or s.startswith("hf://"):
        return isinstance(source, os.PathLike)
    return s.split(":", 1)[0] not in KNOWN_HUB_NAMES


def _load(task, split, lang, source, question_lang=None):
    task_spec(task)  # KeyError naming the allowed tasks
    qlang = question_lang or lang
    sources = list(source) if isinstance(source, (list, tuple)) else [source]
    places: list[str] = []
    if len(sources) > 1 and all(s is not None and _is_local(s) for s in sources):
        # Local roots are searched file by file (the rehearsal: real files, then fixtures).
        return _read_local(task, split, lang, [Path(s).expanduser() for s in sources], qlang)
    for src in sources:
        try:
            if src is not None and _is_local(src):
                return _read_local(task, split, lang, [Path(src).expanduser()], qlang)
            hub = str(src).removeprefix("hf://") if src is not None else None
            return (*_read_hub(task, split, lang, qlang, hub), [f"hub:{hub or HUB[task]['name']}"])
        except DataSourceError as e:
            if not hasattr(e, "places"):
                raise  # not a missing file (no such split, no hub copy): say so directly
            places += e.places
    raise _missing_from(task, split, lang, " and ".join(places))


def load(
    task: str,
    split: str,
    lang: str = "en",
    source: str | os.PathLike | Sequence | None = None,
    *,
    question_lang: str | None = None,
) -> list[dict]:
    """Load one (task, split, language) into schema rows.

    Args:
        task: Task name from ``xstilts.xtreme`` (``anli`` is ANLI+ = ANLI R1-R3 + MNLI + SNLI).
        split: ``train``, ``dev`` or ``test``. A non-English ``train`` reads machine-translated
            data (XTREME translate-train files or ``<root>/<task>/train/<lang>.jsonl``).
        lang: Language code (2 letters). For MLQA, the context language.
        source: A local folder (the data root holding ``<task>/`` folders, or the task folder
            itself) or file; a hub dataset name (``google/xtreme``, ``name:config``); None for
            the task's default hub dataset; or a list of these, tried in order.
        question_lang: MLQA question language (defaults to ``lang``).

    Returns:
        Rows in the schema of the task's kind.

    Raises:
        DataSourceError: No source holds the data; the one-line message says where it looked
            and how to provide it.
        DataFormatError: A file exists but is not in the expected format (or has no labels).

    """
    return _load(task, split, lang, source, question_lang)[0]


def load_bucc_gold(split: str, lang: str, source=None) -> list[dict] | None:
    """Return BUCC gold pairs ``{"src_id", "trg_id"}``.

    Official files without their ``.gold`` (XTREME deletes the test gold) raise
    ``LabelsStrippedError``; only the user layout may lack gold (then None).
    """
    return _load("bucc2018", split, lang, source)[1]


def _balance(kind: str, rows: list[dict], gold) -> dict:
    count_of: dict[str, Callable[[], dict]] = {
        "classification": lambda: Counter(r["label"] for r in rows),
        "multiple_choice": lambda: Counter(str(r["label"]) for r in rows),
        "tagging": lambda: Counter(t for r in rows for t in r["tags"]),
        "qa": lambda: Counter(
            "answerable" if r["answers"]["text"] else "unanswerable" for r in rows
        ),
        "bitext_mining": lambda: (
            Counter(r["side"] for r in rows) + Counter({"gold_pairs": len(gold or [])})
        ),
        "bitext_retrieval": lambda: {"pairs": len(rows)},
        "mlm": lambda: {},
    }
    return dict(sorted(count_of[kind]().items()))


# Splits the official release does not have for some languages (v1 footnote 3: UD-POS has no
# dev data for Kazakh, Thai, Tagalog and Yoruba); materialize skips these and says so in the card.
OFFICIALLY_ABSENT: dict[tuple[str, str], tuple[str, ...]] = {
    ("udpos", "dev"): ("kk", "th", "tl", "yo")
}


def materialize(
    task: str,
    split: str,
    langs: Sequence[str],
    source,
    out_dir: str | os.PathLike,
    *,
    missing: str = "raise",
    mlm_total: int = 2_000_000,
    seed: int = 0,
    limit: int = 0,
) -> dict:
    """Write ``<out_dir>/<task>/<split>/<lang>.jsonl`` for each language and return a data card.

    Files are written atomically (``xstilts.io.write_jsonl``) and load with
    ``datasets.load_dataset("json", data_files=...)``. BUCC also gets ``<lang>.gold.jsonl``.

    Args:
        task: Task name.
        split: ``train``, ``dev`` or ``test``.
        langs: Languages to write.
        source: As for :func:`load`.
        out_dir: The dataset folder.
        missing: ``raise`` (default) or ``skip`` languages without data. Languages the
            official release lacks (``OFFICIALLY_ABSENT``: UD-POS dev for kk, th, tl, yo) are
            always skipped. Skipped languages are listed in the card.
        mlm_total: For ``mlm`` only: corpus size sampled across ``langs`` with α = 0.3 from
            ``<source>/[mlm/]<lang>.txt`` (the paper: 2 million sentences).
        seed: Sampling seed (``mlm``, and the ``limit`` subsample).
        limit: Keep at most this many rows per language (``subsample``); 0 = all.

    Returns:
        The data card: task, split, kind, source, licence, real, languages, sizes,
        label_balance, files and missing.

    """
    kind = task_spec(task).kind
    if kind == "mlm":  # sampled across languages at once, so not one file at a time
        from xstilts.data.mlm_corpus import materialize_mlm  # mlm_corpus imports this module

        roots = [Path(r).expanduser() for r in (source if isinstance(source, list) else [source])]
        has = [r for r in roots if (r / "mlm").is_dir() or any(r.glob("*.txt"))]
        root = (has or roots)[0]  # the first root with a corpus (the rehearsal: the fixtures)
        root = root / "mlm" if (root / "mlm").is_dir() else root
        return materialize_mlm(root, langs, mlm_total, out_dir, seed=seed)
    out = Path(out_dir) / task / split
    card = {
        "task": task, "split": split, "kind": kind,
        "source": str(source) if source is not None else HUB.get(task, {}).get("name", "none"),
        "licence": LICENCES.get(task, "unknown"), "real": True, "languages": [],
        "sizes": {}, "label_balance": {}, "files": {}, "missing": [], "read_from": {},
    }  # fmt: skip
    for lang in langs:
        try:
            rows, gold, read = _load(task, split, lang, source)
            card["read_from"][lang] = read  # which root each file came from
            if limit:
                rows, gold = subsample(kind, rows, gold, limit, seed)
                card.setdefault("subsampled_to", limit)
        except DataSourceError:
            if missing != "skip" and lang not in OFFICIALLY_ABSENT.get((task, split), ()):
                raise
            card["missing"].append(lang)
            continue
        io.write_jsonl(out / f"{lang}.jsonl", rows)
        card["files"][lang] = f"{task}/{split}/{lang}.jsonl"
        if gold is not None:
            io.write_jsonl(out / f"{lang}.gold.jsonl", gold)
        card["languages"].append(lang)
        card["sizes"][lang] = len(rows)
        card["label_balance"][lang] = _balance(kind, rows, gold)
    return card


def subsample(kind: str, rows: list[dict], gold, n: int, seed: int):
    """At most ``n`` rows, a seeded sample kept in file order; BUCC keeps its gold consistent.

    BUCC rows are sentences of two sides: the sample keeps ``n // 2`` gold pairs (both
    sentences) and fills each side with non-gold sentences up to ``n`` per side.
    """
    import random

    rng = random.Random(f"subsample|{seed}|{n}")
    if kind != "bitext_mining":
        if len(rows) <= n:
            return rows, gold
        keep = set(rng.sample(range(len(rows)), n))
        return [r for i, r in enumerate(rows) if i in keep], gold
    pairs = list(gold or [])
    pairs = [pairs[i] for i in sorted(rng.sample(range(len(pairs)), min(len(pairs), n // 2)))]
    ids = {p["src_id"] for p in pairs} | {p["trg_id"] for p in pairs}
    gold_ids = {p["src_id"] for p in gold or []} | {p["trg_id"] for p in gold or []}
    out = []
    for side in ("src", "trg"):
        own = [r for r in rows if r["side"] == side]
        others = [r for r in own if r["id"] not in gold_ids]
        extra = rng.sample(range(len(others)), max(0, min(len(others), n - len(pairs))))
        keep = ids | {others[i]["id"] for i in extra}
        out += [r for r in own if r["id"] in keep]
    return out, pairs


def official_layout(task: str) -> dict:
    """Describe the files a local root must hold for ``task`` (for the README and dry runs).

    Returns:
        ``{"task", "folder", "splits": {split: [[pattern, ...] per part]}, "hub", "licence",
        "download", "user_layout"}``; patterns are relative to ``<root>/<folder>/`` and use
        ``{lang}`` (2-letter), ``{lang3}`` (Tatoeba ISO 639-3), ``{lname}`` (English name,
        lower-cased for TyDiQA files), ``{qlang}`` (MLQA question language).

    """
    if task == "mlm":
        return {
            "task": task, "folder": "mlm", "splits": {"train": [["{lang}.txt [text]"]]},
            "hub": None, "licence": LICENCES[task],
            "download": "one sentence per line per language, from Wikipedia or CC-100 dumps",
            "user_layout": "<root>/mlm/train/<lang>.jsonl (rows in the xstilts schema)",
        }  # fmt: skip
    folder, splits = LAYOUTS[task]
    hub = HUB.get(task)
    return {
        "task": task,
        "folder": folder,
        "splits": {
            s: [[f"{p} [{fmt}]" for fmt, p, _ in part] for part in parts]
            for s, parts in splits.items()
        },
        "hub": f"{hub['name']}" if hub else None,
        "licence": LICENCES.get(task, "unknown"),
        "download": DOWNLOAD.get(task, ""),
        "user_layout": f"<root>/{task}/<split>/<lang>.jsonl (rows in the xstilts schema)",
    }
