"""Character-3-gram TF-IDF + nmslib HNSW index over KB aliases, cached on disk by content hash.

scispaCy's ``create_tfidf_ann_index`` refuses scipy >= 1.11 (it stores float16 sparse
vectors) and uses ``min_df=10`` (which empties a small KB), so the same index is built here
with float32 vectors and ``min_df=1``. The files are the ones scispaCy's
``LinkerPaths.from_directory`` expects, so loading goes through scispaCy's own loader.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ..resources import content_hash

log = logging.getLogger("reportlab_nlp.linking")

INDEX_VERSION = "1"
# HNSW parameters: recall matters more than build time for a KB of a few thousand aliases;
# for a full UMLS build (millions of aliases) they keep the build to minutes per core.
HNSW_PARAMS = {"M": 32, "efConstruction": 400, "post": 0}


def cache_root() -> Path:
    """``$REPORTLAB_NLP_CACHE`` or ``~/.cache/reportlab_nlp``."""
    env = os.environ.get("REPORTLAB_NLP_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "reportlab_nlp"


def index_key(kb_file: Path) -> str:
    """Content hash of the KB file plus everything that shapes the index."""
    extra = json.dumps({"v": INDEX_VERSION, "hnsw": HNSW_PARAMS, "tfidf": "char_wb-3-3-min_df1"}, sort_keys=True)
    return content_hash(kb_file, extra=extra)


def index_dir(kb_file: Path) -> Path:
    return cache_root() / "linker" / index_key(kb_file)


def is_built(directory: Path) -> bool:
    from scispacy.candidate_generation import LinkerPaths

    return directory.is_dir() and LinkerPaths.from_directory(directory).is_locally_cached()


def build_index(aliases: list[str], directory: Path) -> Path:
    """Fit the vectorizer, build the HNSW index and write the four scispaCy files atomically."""
    import joblib
    import nmslib
    import numpy
    import scipy.sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), min_df=1, dtype=numpy.float32)
    vectors = vectorizer.fit_transform(aliases)
    nonempty = numpy.asarray(vectors.sum(axis=1)).reshape(-1) != 0  # nmslib crashes on all-zero rows
    aliases = [a for a, keep in zip(aliases, nonempty) if keep]
    vectors = vectors[nonempty].astype(numpy.float32)
    index = nmslib.init(method="hnsw", space="cosinesimil_sparse", data_type=nmslib.DataType.SPARSE_VECTOR)
    index.addDataPointBatch(vectors)
    index.createIndex({**HNSW_PARAMS, "indexThreadQty": max(1, os.cpu_count() or 1)}, print_progress=False)

    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=directory.parent))
    try:
        joblib.dump(vectorizer, tmp / "tfidf_vectorizer.joblib")
        scipy.sparse.save_npz(tmp / "tfidf_vectors_sparse.npz", vectors)
        (tmp / "concept_aliases.json").write_text(json.dumps(aliases), encoding="utf-8")
        index.saveIndex(str(tmp / "nmslib_index.bin"))
        try:
            os.replace(tmp, directory)
        except OSError:
            if not is_built(directory):  # another process won the race with a good index: keep it
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("built linking index: %d aliases in %s", len(aliases), directory)
    return directory


def load_index(directory: Path, ef_search: int = 100):
    """(aliases, vectorizer, ann_index) through scispaCy's loader."""
    from scispacy.candidate_generation import LinkerPaths

    return LinkerPaths.from_directory(directory).load(ef_search=ef_search)
