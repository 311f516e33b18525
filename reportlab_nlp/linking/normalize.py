"""String normalisation shared by the KB side and the mention side of linking.

Every alias and every mention goes through the same functions, so a spelling rule that is
imperfect (``diabetes`` -> ``diabete``) still matches itself. Keys, from strict to loose:

* ``norm``: lower case, punctuation to spaces, whitespace collapsed;
* ``singular``: ``norm`` with each token singularised (plurals match singulars);
* ``bag``: the sorted set of singular tokens without function words (word-order variants:
  "fracture of the rib" ~ "rib fracture", "effusion, pleural" ~ "pleural effusion").
"""

from __future__ import annotations

import re

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
STOPWORDS = frozenset(
    "a an the of in on at to with within and or is are was were be been there this that these "
    "those which its it as by for from into".split()
)
_IRREGULAR = {
    "pneumothoraces": "pneumothorax",
    "hemothoraces": "hemothorax",
    "hemithoraces": "hemithorax",
    "apices": "apex",
    "hila": "hilum",
    "metastases": "metastasis",
    "atelectases": "atelectasis",
    "bronchi": "bronchus",
    "vertebrae": "vertebra",
    "bullae": "bulla",
    "granulomata": "granuloma",
    "emboli": "embolus",
    "sulci": "sulcus",
    "calculi": "calculus",
    "diagnoses": "diagnosis",
    "scapulae": "scapula",
    "humeri": "humerus",
    "lungs": "lung",
    "bases": "base",
    "lucencies": "lucency",
    "cavities": "cavity",
    "arteries": "artery",
    "ribs": "rib",
    "leads": "lead",
    "wires": "wire",
    "atria": "atrium",
    "septa": "septum",
}
_KEEP = ("ss", "us", "is", "as", "ys", "os")


def norm(text: str) -> str:
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def singular_token(tok: str) -> str:
    if tok in _IRREGULAR:
        return _IRREGULAR[tok]
    if len(tok) <= 3 or tok.isdigit():
        return tok
    if tok.endswith("ies") and len(tok) > 4:
        return tok[:-3] + "y"
    if tok.endswith(("sses", "xes", "ches", "shes")):
        return tok[:-2]
    if tok.endswith("s") and not tok.endswith(_KEEP):
        return tok[:-1]
    return tok


def singular(normed: str) -> str:
    return " ".join(singular_token(t) for t in normed.split())


def bag(normed: str, drop: frozenset[str] = frozenset()) -> str:
    toks = {singular_token(t) for t in normed.split() if t not in STOPWORDS}
    toks = {t for t in toks if t not in drop}
    return " ".join(sorted(toks))
