"""Weak-supervision data for the model: rule-labeled sentences and mention swaps.

A few hundred rule-labeled reports teach a small encoder the common findings, but not the rare
ones: in a chest X-ray archive "pneumothorax" is nearly always written "no pneumothorax", so a
model trained on reports alone learns "the word pneumothorax means negative" and misses "small
right pneumothorax". Two augmentations, both labeled by the rule labeler itself (the model never
sees a label the rules would not give):

* :func:`sentence_examples` -- every distinct sentence of a labeled section of the training
  reports becomes an example of its own (short, few labels each);
* :func:`swap_examples` -- *mention swaps*: in a sentence where the rules found a mention of one
  finding with some assertion ("small right pleural effusion", present), the mention's words are
  replaced by a surface form of a rarer finding seen elsewhere in the training text ("small right
  pneumothorax"). The new sentence is labeled again by the rules and kept only when the rules
  give the swapped-in label the wanted value. Every (label, value) pair thus gets examples in the
  contexts (negation, hedging, plain statement) of the common findings.

Sentences of validation reports are never used (the caller passes training reports only).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

# a mention whose words include one of these is a statement ("heart size is normal"), not a
# noun phrase: swapping it would break the sentence, so it is neither a source nor a form
_PREDICATE_WORDS = frozenset(
    "is are was were be been being appear appears appeared appearing normal clear unremarkable within limits "
    "enlarged intact stable seen noted identified demonstrated present".split()
)
_MAX_FORM_WORDS = 4


def _labeled_sentences(
    ids: Sequence[str], texts: Sequence[str], taxonomy: str
) -> tuple[list[str], list[str]]:
    """Distinct sentences (ids ``<report>#s<k>``) of the labeled sections of the reports."""
    from ..labeler import PipelineSpec, get_pipeline

    nlp = get_pipeline(PipelineSpec(str(taxonomy)))
    labeled = set(nlp.get_pipe("reportlab_sections").labeled)
    seen: set[str] = set()
    out_ids: list[str] = []
    out_texts: list[str] = []
    for rid, text in zip(ids, texts):
        doc = nlp(text)
        titles = {
            sec.title_start
            for sec in (doc._.sections or ())
            if sec.title_start is not None and sec.title_end > sec.title_start
        }
        for k, sent in enumerate(doc.sents):
            if sent.start in titles:
                continue  # a header such as "FINDINGS:"
            if (sent[0]._.section_category or "unknown") not in labeled:
                continue
            stext = sent.text.strip()
            if sum(t.is_alpha for t in sent) < 2 or stext.lower() in seen:
                continue
            seen.add(stext.lower())
            out_ids.append(f"{rid}#s{k}")
            out_texts.append(stext)
    return out_ids, out_texts


def sentence_examples(
    ids: list[str],
    texts: list[str],
    taxonomy: str,
    label_names: list[str],
    *,
    keep_results: list | None = None,
) -> tuple[list[str], list[str], object]:
    """Rule-labeled sentences of the given reports, for weak-supervision augmentation.

    Each distinct sentence of a labeled section (FINDINGS, IMPRESSION, header-less text) becomes an
    extra training example, labeled by the rule labeler on the sentence alone. Returns
    (ids, texts, label table indexed by id). ``keep_results``: a list that receives the rule
    results with evidence, so :func:`swap_examples` need not label the sentences again.
    """
    from ..labeler import label_texts
    from ..outputs import label_frame

    out_ids, out_texts = _labeled_sentences(ids, texts, taxonomy)
    results = label_texts(out_texts, taxonomy=str(taxonomy), ids=out_ids, evidence=keep_results is not None)
    if keep_results is not None:
        keep_results.extend(results)
    table = label_frame("id", out_ids, [r.labels for r in results], label_names).set_index("id")
    return out_ids, out_texts, table


def rare_class_repeats(targets: np.ndarray, min_count: int = 100, max_repeat: int = 10) -> np.ndarray:
    """How often to repeat each example so every (label, non-blank class) reaches ``min_count``.

    An example is repeated as often as its rarest positive / negative / uncertain cell needs
    (at most ``max_repeat`` times).
    """
    n, n_labels = targets.shape
    reps = np.ones(n, dtype=np.int64)
    for j in range(n_labels):
        for c in range(1, 4):  # class 0 is blank (value_classes order)
            rows = np.flatnonzero(targets[:, j] == c)
            if 0 < len(rows) < min_count:
                need = min(max_repeat, -(-min_count // len(rows)))
                reps[rows] = np.maximum(reps[rows], need)
    return reps


def is_noun_phrase_mention(text: str) -> bool:
    """True for a mention that can be swapped: a short noun phrase, not a statement."""
    words = text.lower().split()
    return 0 < len(words) <= _MAX_FORM_WORDS and not any(w.strip(".,;:") in _PREDICATE_WORDS for w in words)


def _match_case(form: str, original: str) -> str:
    """``form`` written in the case of the words it replaces (all capitals, or a capital first)."""
    if original.isupper() and len(original) > 1:
        return form.upper()
    if original[:1].isupper() and form[:1].islower():
        return form[:1].upper() + form[1:]
    return form


def swap_examples(
    ids: Sequence[str],
    texts: Sequence[str],
    taxonomy: str,
    label_names: list[str],
    *,
    min_count: int = 150,
    seed: int = 13,
    results: list | None = None,
) -> tuple[list[str], list[str], object, dict[str, int]]:
    """Mention-swapped sentences so each (label, value) reaches ``min_count`` sentence examples.

    ``ids``/``texts`` are rule-labelable sentences (:func:`sentence_examples`). Returns
    (ids ``<sentence id>#x<n>``, texts, rule label table indexed by id, counts made per
    ``"<label>=<value>"``). Deterministic for a seed. ``results``: the sentences' rule results
    with evidence when the caller already has them (``sentence_examples(keep_results=...)``).
    """
    from ..labeler import label_texts
    from ..outputs import label_frame
    from ..schema import LABEL_SCHEMA, load_taxonomy

    tax = load_taxonomy(taxonomy)
    # findings only: device sentences ("tip projects over the SVC") have a grammar of their own
    findings = {l.name for l in tax.labels if l.counts_as_finding}
    mention_labels = [n for n in label_names if n != tax.no_finding and n in findings]
    if results is None:
        results = label_texts(list(texts), taxonomy=str(taxonomy), ids=list(ids), evidence=True)
    values = [LABEL_SCHEMA.POSITIVE, LABEL_SCHEMA.NEGATIVE, LABEL_SCHEMA.UNCERTAIN]

    forms: dict[str, Counter] = defaultdict(Counter)
    counts: Counter = Counter()
    # sources[value] -> (sentence index, mention start, end, mention label, mention text)
    sources: dict[float, list[tuple[int, int, int, str, str]]] = defaultdict(list)
    for i, res in enumerate(results):
        for name in mention_labels:
            v = res.labels.get(name)
            if v is not None and not LABEL_SCHEMA.is_blank(v):
                counts[(name, float(v))] += 1
        for m in res.mentions:
            if (
                len(m.get("labels") or [m["label"]]) != 1
                or m.get("value") is None
                or m["label"] not in mention_labels
            ):
                continue
            if not is_noun_phrase_mention(m["text"]):
                continue
            forms[m["label"]][m["text"].lower()] += 1
            sources[float(m["value"])].append((i, int(m["start"]), int(m["end"]), m["label"], m["text"]))

    rng = np.random.default_rng(seed)
    cand_ids: list[str] = []
    cand_texts: list[str] = []
    cand_goal: list[tuple[str, float]] = []
    seen = {t.lower() for t in texts}
    for name in mention_labels:
        if not forms.get(name):
            continue
        label_forms = sorted(forms[name])
        for value in values:
            need = min_count - counts[(name, value)]
            if need <= 0:
                continue
            # sentences that do not mention the target finding already ("effusion and no
            # pneumothorax" would become "pneumothorax and no pneumothorax")
            pool = [
                s
                for s in sources.get(value, ())
                if s[3] != name and LABEL_SCHEMA.is_blank(results[s[0]].labels.get(name))
            ]
            if not pool:
                continue
            order = rng.permutation(len(pool))
            for k in order[: need * 2]:  # extra candidates: the rules may not keep every swap
                i, start, end, _, original = pool[k]
                form = _match_case(label_forms[int(rng.integers(len(label_forms)))], original)
                text = texts[i][:start] + form + texts[i][end:]
                if text.lower() in seen:
                    continue
                seen.add(text.lower())
                cand_ids.append(f"{ids[i]}#x{len(cand_ids)}")
                cand_texts.append(text)
                cand_goal.append((name, value))
    if not cand_texts:
        return [], [], label_frame("id", [], [], label_names).set_index("id"), {}

    relabeled = label_texts(cand_texts, taxonomy=str(taxonomy), ids=cand_ids, evidence=False)
    kept_ids, kept_texts, kept_rows = [], [], []
    made_per: Counter = Counter()
    for cid, text, goal, res in zip(cand_ids, cand_texts, cand_goal, relabeled):
        name, value = goal
        got = res.labels.get(name)
        if got is None or LABEL_SCHEMA.is_blank(got) or float(got) != value:
            continue  # the rules do not read the swap as intended: drop it
        if counts[goal] + made_per[goal] >= min_count:
            continue
        made_per[goal] += 1
        kept_ids.append(cid)
        kept_texts.append(text)
        kept_rows.append(res.labels)
    table = label_frame("id", kept_ids, kept_rows, label_names).set_index("id")
    summary = {f"{n}={v:g}": c for (n, v), c in sorted(made_per.items())}
    return kept_ids, kept_texts, table, summary
