"""The ``reportlab_linker`` spaCy component: sets cui / preferred_name / link_score / candidates on
every ent."""

import json
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from .. import extensions  # noqa: F401  registers span._.cui & co.
from .linker import DEFAULT_K, DEFAULT_THRESHOLD, ConceptLinker, get_linker

_CONFIG_FILE = "reportlab_linker.json"


@Language.factory(
    "reportlab_linker",
    default_config={
        "kb": None,
        "threshold": DEFAULT_THRESHOLD,
        "k": DEFAULT_K,
        "max_candidates": 5,
        "observation_bonus": 0.25,
        "resolve_abbreviations": True,
    },
)
def make_reportlab_linker(
    nlp: Language,
    name: str,
    kb: str | None,
    threshold: float,
    k: int,
    max_candidates: int,
    observation_bonus: float,
    resolve_abbreviations: bool,
):
    return ReportLabLinker(
        nlp,
        name,
        kb=kb,
        threshold=threshold,
        k=k,
        max_candidates=max_candidates,
        observation_bonus=observation_bonus,
        resolve_abbreviations=resolve_abbreviations,
    )


class ReportLabLinker:
    """Links each ``doc.ents`` mention; the KB and its index load on the first doc (lazily)."""

    def __init__(
        self,
        nlp: Language,
        name: str = "reportlab_linker",
        kb: str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        k: int = DEFAULT_K,
        max_candidates: int = 5,
        observation_bonus: float = 0.25,
        resolve_abbreviations: bool = True,
    ):
        self.name = name
        self.cfg = {
            "kb": None if kb in (None, "") else str(kb),
            "threshold": float(threshold),
            "k": int(k),
            "max_candidates": int(max_candidates),
            "observation_bonus": float(observation_bonus),
            "resolve_abbreviations": bool(resolve_abbreviations),
        }
        self._nlp = nlp
        self._linker: ConceptLinker | None = None
        self._abbrev = None

    @property
    def linker(self) -> ConceptLinker:
        if self._linker is None:
            c = self.cfg
            self._linker = get_linker(
                c["kb"],
                threshold=c["threshold"],
                k=c["k"],
                max_candidates=c["max_candidates"],
                observation_bonus=c["observation_bonus"],
            ).load()
        return self._linker

    def _long_forms(self, doc: Doc) -> dict:
        """token index -> in-document long form, from scispaCy's AbbreviationDetector ("... (PTX)")."""
        if "(" not in doc.text:
            return {}
        if self._abbrev is None:
            from scispacy.abbreviation import AbbreviationDetector

            self._abbrev = AbbreviationDetector(self._nlp)
        doc._.abbreviations = []  # the extension's default list is shared between docs
        self._abbrev(doc)
        out = {}
        for short in doc._.abbreviations:
            long_form = short._.long_form
            text = long_form.text if isinstance(long_form, Span) else long_form
            for i in range(short.start, short.end):
                out[i] = text
        return out

    def __call__(self, doc: Doc) -> Doc:
        ents = doc.ents
        if not ents:
            return doc
        linker = self.linker
        long_forms = self._long_forms(doc) if self.cfg["resolve_abbreviations"] else {}
        for ent in ents:
            lf = None
            if long_forms:
                lf = next((long_forms[i] for i in range(ent.start, ent.end) if i in long_forms), None)
            u = ent._  # one Underscore object per mention
            res = linker.link(ent.text, u.observation, lf, statement=bool(u.normality_statement))
            if res.cui is None and u.observation in linker.by_observation:
                # A statement such as "lungs are clear" or "heart size is normal" names no concept
                # in its words; the rule that matched it says which observation it is about, so it
                # takes that observation's primary concept, scored at the threshold.
                cui = linker.by_observation[u.observation][0]
                u.cui = cui
                u.preferred_name = linker.concepts[cui].name
                u.cui_status = linker.concepts[cui].cui_status
                u.link_score = float(linker.threshold)
                u.candidates = [(cui, float(linker.threshold))]
                continue
            u.cui = res.cui
            u.preferred_name = res.preferred_name
            u.cui_status = None if res.cui is None else linker.concepts[res.cui].cui_status
            u.link_score = res.score
            u.candidates = list(res.candidates)
        return doc

    # serialisation: the config is the state (the index is a cache keyed by the KB's content)
    def to_disk(self, path, exclude=tuple()):
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        (p / _CONFIG_FILE).write_text(json.dumps(self.cfg, indent=2), encoding="utf-8")

    def from_disk(self, path, exclude=tuple()):
        f = Path(path) / _CONFIG_FILE
        if f.exists():
            self.cfg.update(json.loads(f.read_text(encoding="utf-8")))
            self._linker = None
        return self

    def to_bytes(self, exclude=tuple()) -> bytes:
        return json.dumps(self.cfg).encode("utf-8")

    def from_bytes(self, data: bytes, exclude=tuple()):
        self.cfg.update(json.loads(data.decode("utf-8")))
        self._linker = None
        return self
