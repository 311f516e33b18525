"""Concept linking: shipped table, linking accuracy, index cache, spaCy component."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import spacy

from reportlab_nlp.errors import RulesError
from reportlab_nlp.linking import ConceptLinker, get_linker, load_concepts
from reportlab_nlp.linking import index as link_index
from reportlab_nlp.linking.normalize import bag, norm, singular

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    # one cache per test session keeps the shipped index from being rebuilt per test
    monkeypatch.setenv("REPORTLAB_NLP_CACHE", str(tmp_path_factory.getbasetemp() / "rl_cache"))


@pytest.fixture(scope="module")
def linker(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("REPORTLAB_NLP_CACHE", str(tmp_path_factory.getbasetemp() / "rl_cache"))
    lk = ConceptLinker(None).load()
    mp.undo()
    return lk


def test_shipped_table_is_valid_and_covers_the_taxonomies():
    concepts = load_concepts(None)
    assert len(concepts) >= 250
    cuis = [c.cui for c in concepts]
    assert len(cuis) == len(set(cuis))
    labels = {l for c in concepts for l in c.labels}
    chexpert = {
        "Enlarged Cardiomediastinum",
        "Cardiomegaly",
        "Lung Opacity",
        "Lung Lesion",
        "Edema",
        "Consolidation",
        "Pneumonia",
        "Atelectasis",
        "Pneumothorax",
        "Pleural Effusion",
        "Pleural Other",
        "Fracture",
        "Support Devices",
    }
    nih = {
        "Atelectasis",
        "Cardiomegaly",
        "Effusion",
        "Infiltration",
        "Mass",
        "Nodule",
        "Pneumonia",
        "Pneumothorax",
        "Consolidation",
        "Edema",
        "Emphysema",
        "Fibrosis",
        "Pleural_Thickening",
        "Hernia",
    }
    assert {f"chexpert:{l}" for l in chexpert} <= labels
    assert {f"nih14:{l}" for l in nih} <= labels
    cats = {c.category for c in concepts}
    assert {"finding", "device", "anatomy"} <= cats
    # the only alias shared by two concepts is "edema" (pulmonary edema comes first in the table)
    owners: dict[str, set] = {}
    for c in concepts:
        for a in [c.name, *c.synonyms, *c.abbreviations]:
            owners.setdefault(norm(a), set()).add(c.cui)
    assert {a for a, o in owners.items() if len(o) > 1} == {"edema"}


def test_every_shipped_cui_has_its_verification_record():
    """ontologies/cui_evidence.tsv: one row per concept, same status; a verified CUI names its sources."""
    from reportlab_nlp.resources import data_path

    concepts = load_concepts(None)
    with open(data_path("ontologies", "cui_evidence.tsv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert [(r["cui"], r["name"], r["cui_status"], r["radlex"] or None) for r in rows] == [
        (c.cui, c.name, c.cui_status, c.radlex) for c in concepts
    ]
    assert sum(1 for c in concepts if c.radlex) >= 75
    assert all(r["evidence"].strip() for r in rows if r["cui_status"] == "verified")
    status = {c.cui: c.cui_status for c in concepts}
    assert sum(v == "verified" for v in status.values()) >= 278
    # chest-wall pain (C0008035) once stood for "chest tube": a chest tube now links to its
    # verified broader concept
    assert "C0008035" not in status
    assert get_linker().link("chest tube").cui == "C0180499"
    # UMLS dictionary output names these "Failure (biologic function)" and "Massive": they once
    # stood for "normal heart size" and "displaced"
    assert "C0231174" not in status and "C0522501" not in status
    # SIDER 4 and DisGeNET name these Hydrophthalmos and Caffey disease: they once stood for
    # hydrothorax and DISH
    assert "C0020302" not in status and "C0020497" not in status
    # a finding without a verified CUI of its own is named by its verified broader concept
    assert [get_linker().link(s).cui for s in ("tortuous aorta", "tracheal deviation", "pneumonectomy")] == [
        "C0333076",
        "C0012727",
        "C0396565",
    ]


def test_bad_table_gets_a_coded_error(tmp_path):
    bad = tmp_path / "t.yml"
    bad.write_text(
        "version: 1\nconcepts:\n- {cui: C0032227, name: Pleural effusion}\n- {cui: X123, name: bad}\n"
    )
    with pytest.raises(RulesError) as err:
        load_concepts(bad)
    assert err.value.code == "RL211" and "concept #2" in str(err.value)
    bad.write_text("version: 1\nconcepts:\n- {cui: C0032227, name: Pleural effusion, synonym: [x]}\n")
    with pytest.raises(RulesError) as err:
        load_concepts(bad)
    assert err.value.code == "RL211" and "C0032227" in str(err.value)
    with pytest.raises(RulesError) as err:
        load_concepts(tmp_path / "missing")
    assert err.value.code == "RL210"


def test_normalisation_keys():
    assert norm("  Effusion, PLEURAL ") == "effusion pleural"
    assert singular("opacities pneumothoraces masses effusions") == "opacity pneumothorax mass effusion"
    assert bag("fracture of the ribs") == bag("rib fracture") == "fracture rib"


def test_linking_cases_top1_accuracy(linker):
    rows = list(csv.DictReader(open(DATA / "linking_cases.tsv", encoding="utf-8"), delimiter="\t"))
    assert len(rows) >= 300
    misses = [r["surface"] for r in rows if linker.link(r["surface"]).cui != r["expected_cui"]]
    accuracy = 1 - len(misses) / len(rows)
    assert accuracy >= 0.95
    # the known miss: a transposition in a short word keeps the blended similarity under the
    # 0.7 threshold ("noduel" 0.65 to "nodule")
    assert misses == ["noduel"]


@pytest.mark.parametrize(
    "phrase,cui,method",
    [
        ("plueral efusion", "C0032227", "fuzzy"),
        ("cardiomegally", "C0018800", "fuzzy"),
        ("PTX", "C0032326", "exact"),
        ("enlarged cardiac silhouette", "C0018800", "exact"),
        ("pneumothoraces", "C0032326", "exact"),
        ("pulmonary embolisms", "C0034065", "singular"),
        ("effusion, pleural", "C0032227", "bag"),
        ("small left pleural effusion", "C0032227", "core"),
        ("right lower lobe pneumonia", "C0032285", "head"),
        ("R IJ CVC", "C1145640", "fuzzy"),
        ("cardiomegaly, mild", "C0018800", "core"),
        ("pneumothoarx", "C0032326", "fuzzy"),
    ],
)
def test_link_methods(linker, phrase, cui, method):
    res = linker.link(phrase)
    assert (res.cui, res.method) == (cui, method)
    assert res.preferred_name == linker.concepts[cui].name
    assert res.candidates[0][0] == cui and res.candidates[0][1] == res.score


def test_scores_and_threshold(linker):
    assert linker.link("PTX").score == 1.0
    assert linker.link("effusion, pleural").score == 0.95
    res = linker.link("xyzzy")
    assert res.cui is None and res.score is None and res.preferred_name is None
    assert all(s < linker.threshold for _, s in res.candidates)
    # an unlinked mention still shows its closest concept first ("noduel" 0.65 to the nodule)
    near = linker.link("noduel")
    assert (near.cui, near.method, near.candidates[0][0]) == (None, "none", "C0034079")
    assert 0.5 < near.candidates[0][1] < linker.threshold
    assert linker.link("").cui is None


def test_observation_hint_rescues_and_breaks_ties(linker):
    # a bare qualifier found by a rule names the rule's finding (or nothing), never another finding
    assert linker.link("mild").cui == "C2945599"
    # the component then gives the observation's concept
    assert linker.link("mild", "cardiomegaly").cui is None
    assert linker.link("mild", "infection").cui is None  # no concept feeds the infection observation
    mild = linker.link("mild", "cardiomegaly")
    assert {c for c, _ in mild.candidates} <= set(linker.by_observation["cardiomegaly"])
    # a bare qualifier is scored against the observation's concepts without the bonus: "prominent"
    # is not close enough to name one of them (the component then gives the primary concept)
    # (the decision only: which low-scoring aliases fill the other candidate places is a tie
    # among zero similarities that numpy may order differently on another processor)
    hinted = linker.link("prominent", "enlarged_cardiomediastinum")
    assert (hinted.cui, hinted.method, hinted.candidates[0][0]) == (None, "none", "C2021206")
    assert all(s < linker.threshold for _, s in hinted.candidates)
    assert {c for c, _ in hinted.candidates} <= set(linker.by_observation["enlarged_cardiomediastinum"])
    # a mention with a generic head is not stretched into an alias that adds a word of meaning
    # ("abnormality" -> "rib abnormality"), even an alias of the observation's concepts ("osseous
    # abnormality" -> "osseous metastasis"); forms and misspellings of its own words are no new words
    assert [linker.link(s).cui for s in ("abnormality", "bony abnormality")] == [None, None]
    assert linker.link("osseous abnormality", "bone_lesion").cui is None
    assert linker.link("mas lesion").cui == "C0577559"
    assert linker.link("enlarged", "cardiomegaly").cui == "C0018800"
    assert linker.link("enlarged", "enlarged_cardiomediastinum").cui == "C2021206"
    # "edema" is an alias of two concepts: table order decides, unless an observation says otherwise
    assert linker.link("edema").cui == "C0034063"
    assert linker.link("edema", "soft_tissue_edema").cui == "C0013604"


def test_repeated_forms_hit_the_cache(linker):
    first = linker.link("bibasilar opacities")
    assert linker.link("bibasilar opacities") is first


def _tiny_table(path: Path, extra_synonym: str = "") -> Path:
    syn = "[pleural effusion, effusions" + (f", {extra_synonym}" if extra_synonym else "") + "]"
    path.write_text(
        "version: 1\nconcepts:\n"
        f"- {{cui: C0032227, name: Pleural effusion, synonyms: {syn}, observations: [pleural_effusion]}}\n"
        "- {cui: C0032326, name: Pneumothorax, abbreviations: [PTX]}\n"
    )
    return path


def test_a_table_without_cui_status_says_nothing_about_it(tmp_path):
    concepts = load_concepts(_tiny_table(tmp_path / "t.yml"))
    assert [c.cui_status for c in concepts] == [None, None]
    assert "cui_status" not in concepts[0].to_json()  # the written KB stays schema-valid
    shipped = {c.cui: c.cui_status for c in load_concepts(None)}
    assert (shipped["C0032227"], shipped["C0521587"]) == ("verified", "unverified")


def test_index_is_cached_by_content_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLAB_NLP_CACHE", str(tmp_path / "cache"))
    built = []
    real_build = link_index.build_index
    monkeypatch.setattr(link_index, "build_index", lambda a, d: built.append(d) or real_build(a, d))
    table = _tiny_table(tmp_path / "kb.yml")
    l1 = ConceptLinker(table).load()
    assert l1.link("pneumothorx").cui == "C0032326"
    key1 = link_index.index_key(table)
    assert l1.index_dir == tmp_path / "cache" / "linker" / key1
    assert sorted(p.name for p in l1.index_dir.iterdir()) == [
        "concept_aliases.json",
        "nmslib_index.bin",
        "tfidf_vectorizer.joblib",
        "tfidf_vectors_sparse.npz",
    ]
    ConceptLinker(table).load()  # same content: the cached index is reused
    assert len(built) == 1
    _tiny_table(table, extra_synonym="hydrothorax")  # new content: new key, new index
    l3 = ConceptLinker(table).load()
    assert len(built) == 2 and link_index.index_key(table) != key1 and l3.index_dir.name != key1
    assert "hydrothorax" in json.loads((l3.index_dir / "concept_aliases.json").read_text())
    assert l3.link("hydrothorax").cui == "C0032227"


def test_get_linker_shares_one_instance(tmp_path):
    table = _tiny_table(tmp_path / "kb.yml")
    assert get_linker(table) is get_linker(str(table))
    assert get_linker(table) is not get_linker(table, threshold=0.9)


def _doc_with_ents(nlp, text, spans):
    doc = nlp.make_doc(text)
    ents, pos = [], 0
    for phrase, obs in spans:
        start = text.index(phrase, pos)
        pos = start + len(phrase)
        span = doc.char_span(start, pos, label="FINDING")
        span._.observation = obs
        ents.append(span)
    doc.ents = ents
    return doc


def test_spacy_component_sets_every_ent(tmp_path):
    import reportlab_nlp.linking  # noqa: F401  registers the factory

    nlp = spacy.blank("en")
    comp = nlp.add_pipe("reportlab_linker", config={"kb": None})
    text = (
        "Small plueral efusion. Heart is enlarged. Xyzzy. Pneumothorax (PTX) on the left; the PTX is small."
    )
    spans = [
        ("plueral efusion", "pleural_effusion"),
        ("Heart is enlarged", "cardiomegaly"),
        ("Xyzzy", None),
        ("Pneumothorax", "pneumothorax"),
        ("PTX", "pneumothorax"),
        ("PTX", "pneumothorax"),
    ]
    doc = comp(_doc_with_ents(nlp, text, spans))
    got = [(e.text, e._.cui, e._.preferred_name) for e in doc.ents]
    assert got == [
        ("plueral efusion", "C0032227", "Pleural effusion"),
        ("Heart is enlarged", "C0018800", "Cardiomegaly"),
        ("Xyzzy", None, None),
        ("Pneumothorax", "C0032326", "Pneumothorax"),
        ("PTX", "C0032326", "Pneumothorax"),
        ("PTX", "C0032326", "Pneumothorax"),
    ]
    # unlinked: its candidates (if the index finds any) all score under the threshold
    assert doc.ents[2]._.link_score is None and isinstance(doc.ents[2]._.candidates, list)
    assert all(s < comp.linker.threshold for _, s in doc.ents[2]._.candidates)
    assert all(0.7 <= e._.link_score <= 1.0 for e in doc.ents if e._.cui)
    # a linked mention shows its concept as the first candidate, with the link score
    assert all(e._.candidates[0] == (e._.cui, e._.link_score) for e in doc.ents if e._.cui)
    assert all(isinstance(c, tuple) for e in doc.ents for c in e._.candidates)


def test_component_uses_in_document_abbreviation_definitions(tmp_path):
    import reportlab_nlp.linking  # noqa: F401

    table = tmp_path / "kb.yml"
    table.write_text(
        "version: 1\nconcepts:\n- {cui: C0032326, name: Pneumothorax}\n"
        "- {cui: C0032227, name: Pleural effusion}\n"
    )
    nlp = spacy.blank("en")
    nlp.add_pipe("reportlab_linker", config={"kb": str(table)})
    text = "There is a pneumothorax (PNX). The PNX is small."
    doc = nlp.get_pipe("reportlab_linker")(_doc_with_ents(nlp, text, [("PNX", None), ("PNX", None)]))
    # "PNX" alone is no alias of this KB: the definition is used
    assert [e._.cui for e in doc.ents] == ["C0032326", "C0032326"]
    doc2 = nlp.get_pipe("reportlab_linker")(_doc_with_ents(nlp, "The PNX is small.", [("PNX", None)]))
    assert doc2.ents[0]._.cui is None


def test_component_serialises_its_config(tmp_path):
    import reportlab_nlp.linking  # noqa: F401

    nlp = spacy.blank("en")
    nlp.add_pipe("reportlab_linker", config={"kb": None, "threshold": 0.8, "k": 7})
    nlp.to_disk(tmp_path / "pipe")
    nlp2 = spacy.load(tmp_path / "pipe")
    cfg = nlp2.get_pipe("reportlab_linker").cfg
    assert (cfg["threshold"], cfg["k"], cfg["kb"]) == (0.8, 7, None)
    saved = tmp_path / "pipe" / "reportlab_linker" / "reportlab_linker.json"
    assert json.loads(saved.read_text())["k"] == 7


def test_fast_tfidf_transform_equals_scikit_learn(linker):
    """The linker's TF-IDF transform gives scikit-learn's matrix exactly (same columns, values)."""
    fast = linker.vectorizer
    slow = fast._vectorizer
    texts = [
        "plueral efusion",
        "Cardiomegally",
        "R IJ CVC",
        "",
        "xyzzy",
        "effusion, pleural",
        "ÉFFUSION",
        "a  b",
    ]
    a, b = slow.transform(texts), fast.transform(texts)
    assert a.shape == b.shape and (a.indptr == b.indptr).all() and (a.indices == b.indices).all()
    assert abs(a - b).max() < 1e-6


def test_statements_and_concept_less_observations_are_not_fuzzy_matched(linker):
    # a normality statement: no fuzzy match to "mediastinal mass"; the component gives it the
    # observation's primary concept instead
    res = linker.link(
        "Mediastinal contour within normal limits", "enlarged_cardiomediastinum", statement=True
    )
    assert (res.cui, res.method) == (None, "none")
    # an observation no concept feeds: unlinked, not the nearest alias of another finding
    # ("infectious etiology" would otherwise be scored against pneumonia and osteomyelitis)
    assert linker.link("infectious etiology").candidates[0][0] == "C0032285"
    assert linker.link("infectious etiology", "infection").candidates == ()
    # exact stages still run for both
    assert linker.link("cardiomegaly", "cardiomegaly", statement=True).cui == "C0018800"


def test_each_observation_has_the_primary_concept_its_statements_take(linker):
    """The first concept of the table that lists an observation is its primary concept: "lungs are
    clear" names Lung opacity (absent), not interstitial markings; "no devices" names Medical device."""
    primary = {o: cuis[0] for o, cuis in linker.by_observation.items()}
    observations = (
        "lung_opacity",
        "cardiomegaly",
        "pleural_effusion",
        "support_device",
        "chronic_lung_disease",
        "hyperinflation",
        "vascular_congestion",
        "lung_abnormality_other",
        "bone_lesion",
    )
    assert [primary[o] for o in observations] == [
        "C4728208",
        "C0018800",
        "C0032227",
        "C0025080",
        "C0742362",
        "C0020449",
        "C0242073",
        "C0024115",
        "C0221198",
    ]
    # words that only name the organ of a rule-found finding do not make the mention that organ:
    # "normal heart size" is a cardiomegaly statement, "enlargement of the cardiac silhouette" is
    # cardiomegaly, "unfolding of the thoracic aorta" the aortic finding
    assert linker.link("normal heart size", "cardiomegaly", statement=True).cui is None
    assert linker.link("normal heart size").cui == "C0018787"
    assert linker.link("enlargement of the cardiac silhouette", "cardiomegaly").cui == "C0018800"
    assert linker.link("unfolding of the thoracic aorta", "aortic_abnormality").cui == "C0333076"


def test_component_gives_a_normality_statement_its_observation_concept(tmp_path):
    import reportlab_nlp.linking  # noqa: F401  registers the factory

    nlp = spacy.blank("en")
    comp = nlp.add_pipe("reportlab_linker", config={"kb": None})
    text = "Mediastinal mas within normal limits. Mediastinal mas within normal limits."
    spans = [("Mediastinal mas within normal limits", "enlarged_cardiomediastinum")] * 2
    doc = _doc_with_ents(nlp, text, spans)
    doc.ents[0]._.normality_statement = True  # as the mention stage marks it
    doc = comp(doc)
    primary = comp.linker.by_observation["enlarged_cardiomediastinum"][0]
    assert (doc.ents[0]._.cui, doc.ents[0]._.link_score) == (primary, comp.linker.threshold)
    assert doc.ents[0]._.cui_status == "verified"
    # the same words not marked as a statement go through the fuzzy stage ("mediastinal mass")
    assert doc.ents[1]._.cui == "C0240318" and doc.ents[1]._.link_score != comp.linker.threshold
