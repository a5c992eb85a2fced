"""Deterministic multilingual generator of the mini-XTREME tasks (synthetic data).

Design:
    1. A *plan* is sampled per item from ``random.Random("task|split|seed|index")``. It is
       language-free: indices into the aligned lexicon (``lexicon.py``) plus the label.
       So one (task, split, seed, index) means the same thing in every language: dev and
       test files are parallel (same ids, same labels) and ``generate(task, "train", "de")``
       is a translation of the English train set (rows flagged ``"translated": true``).
    2. The plan is *rendered* per language by ``lexicon``'s small grammar engine: templates
       whose tokens carry UPOS tags (and English CCG supertags); slot fillers inflect entries
       (gender, numeral government, Hindi ergative agreement, French elision). Tags,
       entity spans and QA answer offsets therefore hold by construction.
    3. Labels come from the semantics of the plan, not from surface cues: NLI uses
       hypernyms (city => country), dropped modifiers, antonyms and negation in all three
       classes; paraphrase pairs contrast antonym+role swaps with plain role swaps
       (PAWS-style: same words, different meaning); QA contexts hold distractor facts
       about a second person; multiple-choice answers need the context or world knowledge.
       Labels are balanced exactly within consecutive blocks of items.

Limits (reports must say the data are synthetic): a small closed vocabulary (~150 concepts)
and ~20 sentence frames, so models can reach ceiling; the translations are simple but not
native quality (e.g. Spanish "ser" for states, approximate Arabic case endings); colours
combine freely with objects ("blue apples"); items of
different splits have different ids but, in such a small space, can coincide in content
(the data phase skips training and dev items that contain a test item's text,
``data.splits``);
CCG supertags are a simplified CCGbank-style scheme for English only.

Example::

    from xstilts.data import synthetic
    rows = synthetic.generate("xnli", "test", "ru", n=300, seed=0)
"""

from __future__ import annotations

import random
from collections import Counter
from functools import partial

from xstilts import xtreme
from xstilts.data import lexicon as lx
from xstilts.data.lexicon import LANGUAGES, SCRIPTS

__all__ = [
    "LANGUAGES",
    "SCRIPTS",
    "TASKS_SUPPORTED",
    "card",
    "generate",
    "label_balance",
    "translate_rows",
]

SPLITS = ("train", "dev", "test")
_CCG_FALLBACK = {
    "PROPN": "N", "NOUN": "N", "NUM": "N/N", "ADJ": "N/N", "DET": "NP[nb]/N",
    "ADP": r"((S\NP)\(S\NP))/NP", "PUNCT": ".", "CCONJ": "conj", "PART": r"(S\NP)\(S\NP)",
    "AUX": r"(S[dcl]\NP)/NP", "VERB": r"(S[dcl]\NP)/NP", "ADV": r"(S\NP)\(S\NP)",
}  # fmt: skip


# ---------------------------------------------------------------- frames
# Each frame turns a language-free spec into (template, slot tokens, agreement keys).
def _f_buy(lang, s):
    g, o = lx.gender(s["p"]), lx.noun(lang, s["noun"])[1]
    mode = "neg" if s["neg"] else "pos"
    day = (
        list(
            lx.phrase(
                lx.DAYS[s["day"]][lx.LANG_INDEX[lang]],
                "PROPN" if lang == "en" else "NOUN",
                None,
                "DAY",
            )
        )
        if s["day"] is not None
        else []
    )
    slots = {
        "P": lx.person(lang, s["p"]),
        "V": lx.verb(lang, s["v"], g, o, mode),
        "DAY": day,
        "OBJ": lx.noun_phrase(lang, s["noun"], s["count"], s["colour"], s["neg"]),
    }
    return "buy_neg" if s["neg"] else "buy", slots, {"g": g, "o": o}


def _f_live(lang, s):
    slots = {"P": lx.person(lang, s["p"]), "LOC": lx.loc(lang, s["place"])}
    return "live_neg" if s["neg"] else "live", slots, {"g": lx.gender(s["p"])}


def _f_job(lang, s):
    g = lx.gender(s["p"])
    forms = lx.entry(lx.PROFESSIONS[s["j"]][0][lx.LANG_INDEX[lang]])[0]
    word = lx.pick(forms, lx.JOB_FORM.get(lang, lambda g, neg: g)(g, s["neg"]))
    slots = {"P": lx.person(lang, s["p"]), "JOB": [lx.tok(word, role="JOB")]}
    return "job_neg" if s["neg"] else "job", slots, {"g": g}


def _f_work(lang, s):
    org = list(lx.phrase(f"[{lx.ORGS[s['org']][lx.LANG_INDEX[lang]]}]", "PROPN", "ORG", "ORG"))
    return "work", {"P": lx.person(lang, s["p"]), "ORG": org}, {"g": lx.gender(s["p"])}


def _animal(lang, a):
    forms, attr = lx.entry(lx.ANIMALS[a][lx.LANG_INDEX[lang]])
    return forms[0], lx.GENDER.get(attr, 0)


def _f_animal(lang, s):
    word, ag = _animal(lang, s["an"])
    word = lx.AR_DEF + word if lang == "ar" else word
    forms = lx.entry(lx.ADJ_PAIRS[s["pair"]][s["pole"]][lx.LANG_INDEX[lang]])[0]
    adj = lx.pick(forms, lx.ADJ_FORM.get(lang, lambda a, neg: min(a, 1))(ag, int(s["neg"])))
    slots = {"A": [lx.tok(word, role="A")], "ADJ": [lx.tok(adj)]}
    return "animal_neg" if s["neg"] else "animal", slots, {"a": ag}


def _cmp(lang, pair, pole, g):
    return lx.words(
        lx.pick(lx.entry(lx.CMP_PAIRS[pair][pole][lx.LANG_INDEX[lang]])[0], g), tag_last="ADJ"
    )


def _f_cmp(lang, s, name="cmp"):
    g = lx.gender(s["x"])
    slots = {
        "X": lx.person(lang, s["x"]),
        "Y": lx.person(lang, s["y"]),
        "CMP": _cmp(lang, s["pair"], s["pole"], g),
    }
    return name, slots, {"g": g}


def _act(lang, j, g):
    return lx.words(lx.pick(lx.entry(lx.PROFESSIONS[j][1][lx.LANG_INDEX[lang]])[0], g))


def _f_act(lang, s):
    g = lx.gender(s["p"])
    return "act", {"P": lx.person(lang, s["p"]), "ACT": _act(lang, s["j"], g)}, {"g": g}


def _f_q_person(lang, s):
    return s["q"], {"P": lx.person(lang, s["p"])}, {"g": lx.gender(s["p"])}


def _f_q_buy(lang, s):
    # "who" questions use masculine agreement (ru "кто купил", ar "من اشترى").
    g = lx.gender(s["p"]) if s.get("p") else 0
    forms, o, cl = lx.noun(lang, s["noun"])
    mode = "pos" if s["q"] == "q_who_buy" else "base"  # "Who bought" vs "did X buy"
    slots = {
        "V": lx.verb(lang, s["v"], g, o, mode),
        "OBJ": lx.noun_phrase(lang, s["noun"], None, None, False),
        "N": [lx.tok(lx.pick(forms, lx.BARE_FORM.get(lang, 1)))],
        "CL": [lx.tok(cl or "")],
        "P": lx.person(lang, s["p"]) if s.get("p") else [],
    }
    return s["q"], slots, {"g": g, "o": o}


def _f_q_misc(lang, s):
    slots = {
        "CAT": lx.words(lx.CATEGORY_NAMES.get(s.get("cat"), LANGUAGES)[lx.LANG_INDEX[lang]]),
        "ACT": _act(lang, s.get("j", 0), 0),
        "CITY": lx.place_nom(lang, ("city", s.get("city", 0))),
        "LOC": lx.loc(lang, ("country", s.get("country", "DE"))),
    }
    return s["q"], slots, {}


_FRAMES = {
    "buy": _f_buy, "live": _f_live, "job": _f_job, "work": _f_work, "animal": _f_animal,
    "cmp": _f_cmp, "act": _f_act, "q_person": _f_q_person, "q_buy": _f_q_buy,
    "q_misc": _f_q_misc, "q_cmp": partial(_f_cmp, name="q_cmp"),
}  # fmt: skip


def clause_tokens(lang: str, spec: dict) -> list[lx.Tok]:
    """Render one language-free clause spec as tagged tokens in ``lang``."""
    name, slots, keys = _FRAMES[spec["frame"]](lang, spec)
    return lx.finish(lang, lx.render(lang, name, slots, keys))


def _text(lang: str, spec: dict) -> str:
    return lx.join(lang, clause_tokens(lang, spec))[0]


def _conj_text(lang: str, specs: list[dict]) -> str:
    a, b = (clause_tokens(lang, s) for s in specs)
    glue = [lx.tok(w, tag) for w, _, tag in (x.partition("/") for x in lx.CONJ[lang].split())]
    return lx.join(lang, a[:-1] + glue + b)[0]


def _word_choice(lang: str, c: tuple) -> str:
    kind, i = c
    li = lx.LANG_INDEX[lang]
    table = {
        "person": lambda: lx.FIRST_NAMES[i][1][li],
        "country": lambda: lx.place(lang, ("country", i))[0],
        "noun": lambda: lx.noun(lang, i)[0][0],
        "animal": lambda: _animal(lang, i)[0],
        "job": lambda: lx.entry(lx.PROFESSIONS[i][0][li])[0][0],
    }
    return table[kind]()


# ---------------------------------------------------------------- plans (language-free)
_NC, _NJ, _NN, _NA = len(lx.CITIES), len(lx.PROFESSIONS), len(lx.NOUNS), len(lx.ANIMALS)
_COUNTS = (3, 4, 5, 6)


def _other(rng: random.Random, n: int, *exclude) -> int:
    return rng.choice([i for i in range(n) if i not in exclude])


def _persons(rng: random.Random, k: int, sur_p: float = 0.0) -> list[tuple]:
    firsts = rng.sample(range(len(lx.FIRST_NAMES)), k)
    return [(f, rng.randrange(len(lx.SURNAMES)) if rng.random() < sur_p else None) for f in firsts]


def _country(place: tuple) -> str:
    return lx.CITIES[place[1]][0] if place[0] == "city" else place[1]


def _fact(kind: str, rng: random.Random, p: tuple | None, **kw) -> dict:
    make = {
        "buy": lambda: {"v": rng.randrange(len(lx.VERBS)), "noun": rng.randrange(_NN),
                        "count": rng.choice(_COUNTS) if rng.random() < 0.75 else None,
                        "colour": rng.randrange(6) if rng.random() < 0.6 else None,
                        "day": rng.randrange(5) if rng.random() < 0.5 else None},
        "live": lambda: {"place": ("city", rng.randrange(_NC))},
        "job": lambda: {"j": rng.randrange(_NJ)},
        "act": lambda: {"j": rng.randrange(_NJ)},
        "work": lambda: {"org": rng.randrange(len(lx.ORGS))},
        "animal": lambda: {"an": rng.randrange(_NA), "pair": rng.randrange(4),
                           "pole": rng.randrange(2)},
    }  # fmt: skip
    return {"frame": kind, "p": p, "neg": False, **make[kind](), **kw}


# NLI hypothesis operations, one per label; each returns the hypothesis spec.
def _nli_entail(rng, m):
    r, k = rng.random(), m["frame"]
    if k == "buy":  # "bought three red apples" => "bought apples": drop modifiers
        present = [f for f in ("count", "colour", "day") if m[f] is not None]
        drop = [f for f in present if rng.random() < 0.5] or present[:1]
        return {**m, **dict.fromkeys(drop)}
    if k == "live":  # city => its country; lives in X => does not live in Y
        other = ("city", _other(rng, _NC, m["place"][1]))
        if r < 0.5:
            return {**m, "place": ("country", _country(m["place"]))}
        if _country(other) != _country(m["place"]):
            return {**m, "place": other if r < 0.8 else ("country", _country(other)), "neg": True}
        return {**m, "place": other, "neg": True}
    if k == "work":  # restatement (every frame occurs under every label: no frame cue)
        return dict(m)
    if k == "job":  # a baker bakes bread; a baker is not a pilot
        if r < 0.5:
            return {"frame": "act", "p": m["p"], "j": m["j"]}
        return {**m, "j": _other(rng, _NJ, m["j"]), "neg": True}
    return {**m, "pole": 1 - m["pole"], "neg": True}  # big => not small


def _nli_neutral(rng, m):
    r, k = rng.random(), m["frame"]
    if k == "buy":
        missing = [f for f in ("count", "colour", "day") if m[f] is None]
        if missing and r < 0.4:  # add a detail the premise does not give
            f = rng.choice(missing)
            val = {
                "count": lambda: rng.choice(_COUNTS),
                "colour": lambda: rng.randrange(6),
                "day": lambda: rng.randrange(5),
            }[f]()
            return {**m, f: val}
        if r < 0.7:  # negation that the premise leaves open
            return {**m, "noun": _other(rng, _NN, m["noun"]), "neg": True, "day": None}
    elif k == "animal":
        if r < 0.5:  # another dimension of the same animal
            return {
                **m,
                "pair": _other(rng, 4, m["pair"]),
                "pole": rng.randrange(2),
                "neg": rng.random() < 0.3,
            }
        if r < 0.7:
            return {**m, "an": _other(rng, _NA, m["an"])}
    # An unrelated fact about the same person; "act" after "job" would be entailed.
    excluded = {k, "act"} if k == "job" else {k}
    kinds = [x for x in ("buy", "live", "job", "work", "act") if x not in excluded]
    return _fact(rng.choice(kinds), rng, m["p"] or _persons(rng, 1)[0])


def _nli_contra(rng, m):
    r, k = rng.random(), m["frame"]
    if k == "buy":
        f = rng.choice(["neg"] + [f for f in ("count", "colour", "day") if m[f] is not None])
        if f == "neg":
            return {**m, "neg": True, "day": m["day"] if r < 0.5 else None}
        alt = {
            "count": lambda: rng.choice([c for c in _COUNTS if c != m["count"]]),
            "colour": lambda: _other(rng, 6, m["colour"]),
            "day": lambda: _other(rng, 5, m["day"]),
        }[f]()
        return {**m, f: alt}
    if k == "live":
        if r < 0.3:
            return {**m, "neg": True}
        if r < 0.7:  # any other city, also in the same country
            return {**m, "place": ("city", _other(rng, _NC, m["place"][1]))}
        keys = [c for c in lx.COUNTRIES if c != _country(m["place"])]
        return {**m, "place": ("country", rng.choice(keys))}
    if k == "work":  # one employer per person
        return {**m, "org": _other(rng, len(lx.ORGS), m["org"])}
    if k == "job":
        return {**m, "neg": True} if r < 0.4 else {**m, "j": _other(rng, _NJ, m["j"])}
    return {**m, "pole": 1 - m["pole"]} if r < 0.6 else {**m, "neg": True}


_NLI_OPS = (_nli_entail, _nli_neutral, _nli_contra)  # order of xtreme.NLI_LABELS


def _nli_plan(rng, lab, hard=False):
    a, b = _persons(rng, 2, 0.1)
    main = _fact(rng.choice(("buy", "live", "job", "work", "animal")), rng, a)
    if main["frame"] == "animal":
        main["p"] = None
    hyp = _NLI_OPS[lab](rng, main)
    used = {main["frame"], "job" if hyp["frame"] == "act" else hyp["frame"]}
    premise = [main]
    # The same statement about someone else: word overlap stops predicting the label
    # (ANLI-style adversary: "Anna lives in Paris" in the premise, "Maria lives in Paris"?).
    if rng.random() < (0.7 if hard else 0.15):
        if hyp["p"] is None:
            premise.append({**hyp, "an": _other(rng, _NA, main["an"], hyp["an"])})
        else:
            premise.append({**hyp, "p": b})
    free = [k for k in ("buy", "live", "job", "work") if k not in used]
    for _ in range(rng.choice((1, 2) if hard else (0, 0, 1))):
        premise.append(_fact(free.pop(rng.randrange(len(free))), rng, b))
    rng.shuffle(premise)
    return {"premise": premise, "hyp": hyp, "label": xtreme.NLI_LABELS[lab]}


def _mention(rng: random.Random, p: tuple, unlike: tuple | None = None) -> tuple:
    """Mention person ``p`` with or without a surname (never the same way as ``unlike``)."""
    m = (p[0], rng.randrange(len(lx.SURNAMES)) if rng.random() < 0.3 else None)
    if unlike is not None and m == unlike:  # a paraphrase pair must not be two equal strings
        m = (p[0], None if unlike[1] is not None else rng.randrange(len(lx.SURNAMES)))
    return m


def _paws_pair(rng, lab, question):
    """PAWS-style pair built from the same words; surface reordering never decides the label.

    Comparatives: meaning = role swap XOR antonym ("A taller than B" = "B shorter than A").
    Coordinated purchases: clause order is free, exchanging the objects changes the meaning.
    """
    a, b = _persons(rng, 2)
    cmp = question or rng.random() < 0.5
    flip = rng.random() < 0.5  # swap roles (cmp) or clause order (conj)
    if cmp:
        change = flip if lab == 1 else not flip  # antonym
    else:
        change = lab == 0  # exchange the objects
    same = not flip and not change  # the one cell that would repeat the sentence
    a1, b1 = _mention(rng, a), _mention(rng, b)
    a2 = _mention(rng, a, a1 if same else None)
    b2 = _mention(rng, b)
    if cmp:
        pair, pole = rng.randrange(4), rng.randrange(2)
        s1 = {"frame": "q_cmp" if question else "cmp", "x": a1, "y": b1, "pair": pair, "pole": pole}
        x, y = (b2, a2) if flip else (a2, b2)
        pa, pb = [s1], [{**s1, "x": x, "y": y, "pole": 1 - pole if change else pole}]
    else:
        c1 = _fact("buy", rng, a1, day=None)
        c2 = _fact("buy", rng, b1, day=None, noun=_other(rng, _NN, c1["noun"]))
        pa = [c1, c2]
        c1, c2 = {**c1, "p": a2}, {**c2, "p": b2}
        if change:  # same words, exchanged objects: different meaning
            obj = ("v", "noun", "count", "colour")
            c1, c2 = {**c1, **{k: c2[k] for k in obj}}, {**c2, **{k: c1[k] for k in obj}}
        pb = [c2, c1] if flip else [c1, c2]
    if rng.random() < 0.5:
        pa, pb = pb, pa
    return {"a": pa, "b": pb, "label": xtreme.PARAPHRASE_LABELS[lab]}


def _qqp_plan(rng, lab):
    if rng.random() < 0.5:
        return _paws_pair(rng, lab, question=True)
    a, b = _persons(rng, 2)
    q1, a1 = rng.choice(("q_live", "q_city")), _mention(rng, a)
    if lab == 1:  # reworded or identically worded question about the same person
        q2 = rng.choice((q1, {"q_live": "q_city", "q_city": "q_live"}[q1]))
        p2 = _mention(rng, a, a1 if q2 == q1 else None)
    else:  # same wording about someone else, or another question about the same person
        q2, p2 = (q1, _mention(rng, b)) if rng.random() < 0.5 else ("q_work", _mention(rng, a))
    pa, pb = [{"frame": "q_person", "q": q1, "p": a1}], [{"frame": "q_person", "q": q2, "p": p2}]
    if rng.random() < 0.5:
        pa, pb = pb, pa
    return {"a": pa, "b": pb, "label": xtreme.PARAPHRASE_LABELS[lab]}


# question -> (fact kind, answer role, question frame)
_QTYPES = {
    "where": ("live", "LOC", "q_live"), "company": ("work", "ORG", "q_work"),
    "job": ("job", "JOB", "q_job"), "who": ("buy", "P", "q_who_buy"),
    "when": ("buy", "DAY", "q_when"), "many": ("buy", "NUM", "q_many"),
}  # fmt: skip


def _qa_plan(rng, lab, unanswerable=False):
    a, b = _persons(rng, 2, 0.2)
    fa = {k: _fact(k, rng, a) for k in ("live", "job", "work", "buy")}
    fa["buy"].update(count=rng.choice(_COUNTS), day=rng.randrange(5))
    fb = {  # the second person differs in every attribute: distractors, never duplicates
        "live": {**fa["live"], "p": b, "place": ("city", _other(rng, _NC, fa["live"]["place"][1]))},
        "job": {**fa["job"], "p": b, "j": _other(rng, _NJ, fa["job"]["j"])},
        "work": {**fa["work"], "p": b, "org": _other(rng, len(lx.ORGS), fa["work"]["org"])},
        "buy": _fact("buy", rng, b, noun=_other(rng, _NN, fa["buy"]["noun"])),
    }
    kind, role, q = _QTYPES[rng.choice(list(_QTYPES))]
    target = fa[kind]
    answerable = not (unanswerable and lab == 0)
    pool = [f for k, f in fa.items() if k != kind] + list(fb.values())
    ctx = rng.sample(pool, rng.choice((3, 4, 5)) - answerable)
    ctx += [target] if answerable else []
    rng.shuffle(ctx)
    question = {
        "frame": "q_person" if kind != "buy" else "q_buy",
        "q": q,
        "p": None if q == "q_who_buy" else a,
        "v": target.get("v"),
        "noun": target.get("noun"),
    }
    return {"ctx": ctx, "q": question, "ans": target if answerable else None, "role": role}


def _hellaswag_plan(rng, lab):
    (a,) = _persons(rng, 1, 0.2)
    jobs = rng.sample(range(_NJ), 4)
    ctx = [_fact("job", rng, a, j=jobs[0])]
    if rng.random() < 0.5:
        ctx.insert(rng.randrange(2), _fact("live", rng, a))
    order = jobs[1:]
    order.insert(lab, jobs[0])
    return {
        "ctx": ctx,
        "q": None,
        "choices": [{"frame": "act", "p": a, "j": j} for j in order],
        "label": lab,
    }


def _cosmos_plan(rng, lab):
    a, b, c, d = _persons(rng, 4)
    ja, jb = rng.sample(range(_NJ), 2)
    ca = rng.randrange(_NC)
    cb = rng.choice([i for i in range(_NC) if lx.CITIES[i][0] != lx.CITIES[ca][0]])
    ctx = [
        _fact("job", rng, a, j=ja),
        _fact("job", rng, b, j=jb),
        _fact("live", rng, a, place=("city", ca)),
        _fact("live", rng, b, place=("city", cb)),
    ]
    rng.shuffle(ctx)
    t, o, tj, tc, oc = (a, b, ja, ca, cb) if rng.random() < 0.5 else (b, a, jb, cb, ca)
    qt = rng.choice(("act", "country", "country_of"))
    if qt == "country_of":  # needs city => country knowledge plus reading
        q = {"frame": "q_person", "q": "q_country_of", "p": t}
        right, wrong = lx.CITIES[tc][0], lx.CITIES[oc][0]
        rest = rng.sample([k for k in lx.COUNTRIES if k not in (right, wrong)], 2)
        kind, choices = "country", [wrong, *rest]
    else:
        q = (
            {"frame": "q_misc", "q": "q_who_act", "j": tj}
            if qt == "act"
            else {"frame": "q_misc", "q": "q_who_country", "country": lx.CITIES[tc][0]}
        )
        kind, right, choices = "person", t[0], [o[0], c[0], d[0]]
    rng.shuffle(choices)
    choices.insert(lab, right)
    return {"ctx": ctx, "q": q, "choices": [(kind, x) for x in choices], "label": lab}


_ITEMS = [("noun", i, cat) for i, (cat, _) in enumerate(lx.NOUNS)] + [
    ("animal", i, "animal") for i in range(_NA)
]


def _csqa_plan(rng, lab):
    qt = rng.choice(("cat", "act", "country"))
    if qt == "cat":
        cat = rng.choice(lx.NOUN_CATEGORIES)
        right = rng.choice([x[:2] for x in _ITEMS if x[2] == cat])
        wrong = rng.sample([x[:2] for x in _ITEMS if x[2] != cat], 4)
        q = {"frame": "q_misc", "q": "q_cat", "cat": cat}
    elif qt == "act":
        jobs = rng.sample(range(_NJ), 5)
        right, wrong = ("job", jobs[0]), [("job", j) for j in jobs[1:]]
        q = {"frame": "q_misc", "q": "q_who_act", "j": jobs[0]}
    else:
        city = rng.randrange(_NC)
        keys = [k for k in lx.COUNTRIES if k != lx.CITIES[city][0]]
        right, wrong = (
            ("country", lx.CITIES[city][0]),
            [("country", k) for k in rng.sample(keys, 4)],
        )
        q = {"frame": "q_misc", "q": "q_country", "city": city}
    wrong.insert(lab, right)
    return {"ctx": [], "q": q, "choices": wrong, "label": lab}


def _tag_plan(rng, lab, scheme="upos"):
    a, b = _persons(rng, 2, 0.5)
    kinds = ("buy", "live", "work", "job", "cmp") + (("animal",) if scheme != "ner" else ())
    kind = rng.choice(kinds)
    if kind == "cmp":
        return {"frame": "cmp", "x": a, "y": b, "pair": rng.randrange(4), "pole": rng.randrange(2)}
    spec = _fact(kind, rng, a, neg=rng.random() < 0.2)
    if kind == "live" and rng.random() < 0.3:
        spec["place"] = ("country", _country(spec["place"]))
    return spec


def _mlm_plan(rng, lab):
    kinds = ("buy", "live", "work", "job", "animal")
    return [
        _fact(rng.choice(kinds), rng, _persons(rng, 1, 0.3)[0]) for _ in range(rng.choice((1, 2)))
    ]


# ---------------------------------------------------------------- renderers
def _sents(lang: str, texts: list[str]) -> str:
    return ("" if lang == "zh" else " ").join(texts)


def _render_nli(plan, lang):
    premise = _sents(lang, [_text(lang, s) for s in plan["premise"]])
    return {"text_a": premise, "text_b": _text(lang, plan["hyp"]), "label": plan["label"]}


def _render_pair(plan, lang):
    texts = [
        _text(lang, s[0]) if len(s) == 1 else _conj_text(lang, s) for s in (plan["a"], plan["b"])
    ]
    return {"text_a": texts[0], "text_b": texts[1], "label": plan["label"]}


def _render_qa(plan, lang):
    sep = "" if lang == "zh" else " "
    context, answers = "", {"text": [], "answer_start": []}
    for fact in plan["ctx"]:
        context += sep if context else ""
        toks = clause_tokens(lang, fact)
        text, starts = lx.join(lang, toks)
        if fact is plan["ans"]:
            idx = [k for k, t in enumerate(toks) if t.role == plan["role"]]
            s, e = starts[idx[0]], starts[idx[-1]] + len(toks[idx[-1]].text)
            answers = {"text": [text[s:e]], "answer_start": [len(context) + s]}
        context += text
    return {"context": context, "question": _text(lang, plan["q"]), "answers": answers}


def _render_mc(plan, lang):
    choices = [
        _text(lang, c) if isinstance(c, dict) else _word_choice(lang, c) for c in plan["choices"]
    ]
    question = _text(lang, plan["q"]) if plan["q"] else lx.TEMPLATES[lang]["stem"]
    return {
        "context": _sents(lang, [_text(lang, s) for s in plan["ctx"]]),
        "question": question,
        "choices": choices,
        "label": plan["label"],
    }


def _ccg_tags(toks: list[lx.Tok]) -> list[str]:
    tags = []
    for k, t in enumerate(toks):
        inner = k + 1 < len(toks) and toks[k + 1].ent.startswith("I-")
        tags.append("N/N" if inner else t.ccg or _CCG_FALLBACK.get(t.upos, "N"))
    return tags


_TAGGERS = {
    "upos": lambda toks: [t.upos for t in toks],
    "ner": lambda toks: [t.ent for t in toks],
    "ccg": _ccg_tags,
}


def _render_tags(plan, lang, scheme="upos"):
    toks = clause_tokens(lang, plan)
    return {"tokens": [t.text for t in toks], "tags": _TAGGERS[scheme](toks)}


def _render_mlm(plan, lang):
    return {"text": _sents(lang, [_text(lang, s) for s in plan])}


_NLI = (_nli_plan, _render_nli, 3)
_QA = (_qa_plan, _render_qa, 1)
# task -> (plan(rng, label_index), render(plan, lang), number of labels balanced per block)
_TASKS = {
    "anli": (partial(_nli_plan, hard=True), _render_nli, 3), "mnli": _NLI, "xnli": _NLI,
    "qqp": (_qqp_plan, _render_pair, 2),
    "pawsx": (partial(_paws_pair, question=False), _render_pair, 2),
    "squad_v1": _QA, "squad_v2": (partial(_qa_plan, unanswerable=True), _render_qa, 3),
    "xquad": _QA, "mlqa": _QA, "tydiqa": _QA,
    "hellaswag": (_hellaswag_plan, _render_mc, 4), "cosmosqa": (_cosmos_plan, _render_mc, 4),
    "commonsenseqa": (_csqa_plan, _render_mc, 5),
    "ccg": (partial(_tag_plan, scheme="ccg"), partial(_render_tags, scheme="ccg"), 1),
    "udpos": (_tag_plan, _render_tags, 1),
    "panx": (partial(_tag_plan, scheme="ner"), partial(_render_tags, scheme="ner"), 1),
    "mlm": (_mlm_plan, _render_mlm, 1),
}  # fmt: skip
TASKS_SUPPORTED: tuple[str, ...] = tuple(_TASKS)

_NLI_DESC = (
    "premise: 1-3 template sentences; hypothesis by a labelled operation: entailment "
    "(dropped modifiers, city=>country, profession=>activity, 'not <antonym>', "
    "'does not live in <other city>'), neutral (added detail, open negation, unrelated "
    "fact about the same person), contradiction (negation, other number/colour/day/"
    "city/country/profession, antonym)"
)
_QA_DESC = (
    "3-5 sentence paragraph about two people (city, job, employer, purchase); "
    "who/where/which-company/job/when/how-many question; answer = the rendered span"
)
_DESCRIPTIONS = {
    "anli": _NLI_DESC + "; adversarial: the hypothesis statement about a second person is "
    "added to most premises",
    "mnli": _NLI_DESC, "xnli": _NLI_DESC,
    "qqp": "question pairs: comparative questions (role swap XOR antonym) and "
    "where/which-city/where-work questions; label 1 = same question",
    "pawsx": "sentence pairs with the same words: comparatives (role swap XOR antonym) and "
    "coordinated purchases (clause order vs exchanged objects); label 1 = paraphrase",
    "squad_v1": _QA_DESC, "xquad": _QA_DESC, "mlqa": _QA_DESC, "tydiqa": _QA_DESC,
    "squad_v2": _QA_DESC + "; one third unanswerable (the asked fact is absent, a distractor "
    "about the other person may be present)",
    "hellaswag": "context: profession (+ city); stem 'Every day'; 4 activity continuations, "
    "the right one is the profession's activity",
    "cosmosqa": "two people's jobs and cities; who does an activity / who lives in a country / "
    "which country; needs reading plus city=>country and job=>activity knowledge",
    "commonsenseqa": "no context; category membership, profession of an activity, country of "
    "a city; 5 choices",
    "ccg": "English only; simplified CCGbank-style supertags assigned per template token",
    "udpos": "one template sentence; UPOS tags assigned per template token and lexicon class",
    "panx": "one template sentence; IOB2 PER/ORG/LOC from the lexicon (multi-token names)",
    "mlm": "1-2 template sentences per row (monolingual text, never marked translated)",
}  # fmt: skip


def _row(task: str, split: str, seed: int, i: int, lang: str) -> dict:
    plan_fn, render_fn, k = _TASKS[task]
    rng = random.Random(f"{task}|{split}|{seed}|{i}")
    # Exactly balanced labels: a fresh permutation of the k labels per block of k items.
    block = random.Random(f"{task}|{split}|{seed}|block{i // k}").sample(range(k), k)
    row = {"id": f"{task}-{split}-{seed}-{i}", "lang": lang}
    row.update(render_fn(plan_fn(rng, block[i % k]), lang))
    if split == "train" and lang != "en" and task != "mlm":
        row["translated"] = True
    return row


def _check(task: str, split: str, lang: str, n: int) -> None:
    if task not in _TASKS:
        raise ValueError(
            f"synthetic: unknown task {task!r}; supported: {', '.join(TASKS_SUPPORTED)}"
        )
    if split not in SPLITS:
        raise ValueError(f"synthetic: unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    if lang not in _card_langs(task):
        raise ValueError(
            f"synthetic: {task} has no language {lang!r}; available: "
            + ", ".join(_card_langs(task))
        )
    if n < 0:
        raise ValueError(f"synthetic: n must be >= 0, got {n}")


def generate(task: str, split: str, lang: str, n: int, seed: int = 0) -> list[dict]:
    """Generate ``n`` rows of ``task`` in the normalised schema (see docs/ARCHITECTURE.md).

    Args:
        task: An XTREME/jiant task name from ``TASKS_SUPPORTED``.
        split: ``train``, ``dev`` or ``test``; splits never share item ids.
        lang: One of ``LANGUAGES`` (``ccg``: English only). Non-English ``train`` rows
            are translations of the English train items and carry ``"translated": True``.
        n: Number of rows.
        seed: Data seed; the same arguments always give identical rows.

    Returns:
        Rows with ``id`` (``task-split-seed-index``, identical across languages) and ``lang``.

    Raises:
        ValueError: Unknown task, split or language, or negative ``n``.
    """
    _check(task, split, lang, n)
    return [_row(task, split, seed, i, lang) for i in range(n)]


def generate_at(task: str, split: str, lang: str, indices, seed: int = 0) -> list[dict]:
    """Generate the rows of the given item indices (as ``generate``, which uses ``range(n)``).

    The data phase skips items whose text occurs in a test set (``data.splits``); the
    kept items keep their index in the id, so ``translate_rows`` still finds them.
    """
    _check(task, split, lang, 0)
    return [_row(task, split, seed, i, lang) for i in indices]


def translate_rows(rows: list[dict], lang: str) -> list[dict]:
    """Render the items behind generated rows in another language (machine-translation stand-in).

    Args:
        rows: Rows from ``generate`` (their ids encode task, split, seed and index).
        lang: Target language.

    Returns:
        Rows with the same ids and labels, ``lang`` set, and ``"translated": True``.
    """
    out = []
    for r in rows:
        task, split, seed, i = r["id"].rsplit("-", 3)
        _check(task, split, lang, 0)
        out.append({**_row(task, split, int(seed), int(i), lang), "translated": True})
    return out


def _card_langs(task: str) -> tuple[str, ...]:
    return ("en",) if task == "ccg" else LANGUAGES


def card(task: str) -> dict:
    """Return the data card of a synthetic task (source, licence, languages, label recipe)."""
    if task not in _TASKS:
        raise ValueError(
            f"synthetic: unknown task {task!r}; supported: {', '.join(TASKS_SUPPORTED)}"
        )
    spec = xtreme.task(task)
    return {
        "task": task,
        "kind": spec.kind,
        "source": "xstilts synthetic generator",
        "licence": "MIT (generated)",
        "real": False,
        "languages": list(_card_langs(task)),
        "scripts": {lang: SCRIPTS[lang] for lang in _card_langs(task)},
        "description": _DESCRIPTIONS[task],
        "parallel": "dev/test items are identical across languages (same ids and labels); "
        "non-English train rows are oracle translations (generated from the same lexicon) "
        "of the English train items (translated=true), not machine translations",
    }


def label_balance(rows: list[dict]) -> dict:
    """Return the fraction of each label in ``rows`` (per kind: label, choice, answerability, tag)."""
    if not rows:
        return {}
    r0 = rows[0]
    if "answers" in r0:
        counts = Counter("answerable" if r["answers"]["text"] else "unanswerable" for r in rows)
    elif "choices" in r0:
        counts = Counter(f"choice_{r['label']}" for r in rows)
    elif "tags" in r0:
        counts = Counter(t for r in rows for t in r["tags"])
    elif "label" in r0:
        counts = Counter(str(r["label"]) for r in rows)
    else:
        return {}
    total = sum(counts.values())
    return {k: round(v / total, 4) for k, v in sorted(counts.items())}
