"""Character-3-gram TF-IDF + nmslib HNSW index over KB aliases, cached on disk by content hash.

scispaCy's ``create_tfidf_ann_index`` refuses scipy >= 1.11 (it stores float16 sparse
vectors) and uses ``min_df=10`` (which empties a small KB), so the same index is built here
with float32 vectors and ``min_df=1``. The files are the ones scispaCy's
``LinkerPaths.from_directory`` expects, so loading goes through scispaCy's own loader.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from ..resources import content_hash

log = logging.getLogger("reportlab_nlp.linking")

INDEX_VERSION = "2"
# HNSW parameters: recall matters more than build time for a KB of a few thousand aliases;
# for a full UMLS build (millions of aliases) they keep the build to minutes per core.
HNSW_PARAMS = {"M": 32, "efConstruction": 400, "post": 0}
DETERMINISTIC_BUILD_MAX = 20_000  # aliases; smaller indexes are built on one thread (reproducible)


def cache_root() -> Path:
    """``$REPORTLAB_NLP_CACHE`` or ``~/.cache/reportlab_nlp``."""
    env = os.environ.get("REPORTLAB_NLP_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "reportlab_nlp"


def index_key(kb_file: Path) -> str:
    """Content hash of the KB file plus everything that shapes the index."""
    extra = json.dumps(
        {
            "v": INDEX_VERSION,
            "hnsw": HNSW_PARAMS,
            "tfidf": "char_wb-3-3-min_df1",
            "single_thread_below": DETERMINISTIC_BUILD_MAX,
        },
        sort_keys=True,
    )
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
    # one build thread makes the graph (and so every fuzzy result) the same from run to run
    # (a fresh process builds the same bytes); a full UMLS build has millions of aliases and
    # uses every core instead
    threads = 1 if len(aliases) < DETERMINISTIC_BUILD_MAX else max(1, os.cpu_count() or 1)
    index.createIndex({**HNSW_PARAMS, "indexThreadQty": threads}, print_progress=False)

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


class FastCharTfidf:
    """The fitted ``TfidfVectorizer``'s ``transform``, without scikit-learn's per-call cost.

    scikit-learn spends about 5 ms per ``transform`` call on validation and bookkeeping, which
    is most of the linker's cost on the first occurrence of a surface form (a call per mention).
    This computes the same matrix (same analyzer, vocabulary, idf, sublinear tf and norm; tested
    equal) in tens of microseconds. Anything but ``transform`` goes to the wrapped vectorizer.
    """

    def __init__(self, vectorizer):
        import numpy
        import scipy.sparse

        if getattr(vectorizer, "binary", False) or getattr(vectorizer, "norm", "l2") not in (
            "l1",
            "l2",
            None,
        ):
            raise ValueError("FastCharTfidf supports count tf with l1/l2/no norm (binary=False)")
        self._vectorizer = vectorizer
        self._analyzer = vectorizer.build_analyzer()
        self._vocab = vectorizer.vocabulary_
        self._idf = [float(x) for x in vectorizer.idf_] if vectorizer.use_idf else None
        self._sublinear = bool(vectorizer.sublinear_tf)
        self._norm = vectorizer.norm
        self._dtype = vectorizer.dtype
        self._n = len(self._vocab)
        self._np = numpy
        self._csr = scipy.sparse.csr_matrix

    def __getattr__(self, name):
        if name.startswith("_"):  # not set yet (copy / unpickle): no recursion into _vectorizer
            raise AttributeError(name)
        return getattr(self._vectorizer, name)

    def transform(self, texts):
        np, vocab, idf = self._np, self._vocab, self._idf
        indptr, indices, data = [0], [], []
        for text in texts:
            counts = Counter(j for j in (vocab.get(g) for g in self._analyzer(text)) if j is not None)
            cols = sorted(counts)
            vals = [float(counts[j]) for j in cols]
            if self._sublinear:
                vals = [1.0 + math.log(v) for v in vals]
            if idf is not None:
                vals = [v * idf[j] for v, j in zip(vals, cols)]
            if self._norm == "l2":
                n = math.sqrt(sum(v * v for v in vals))
                vals = [v / n for v in vals] if n > 0 else vals
            elif self._norm == "l1":
                n = sum(abs(v) for v in vals)
                vals = [v / n for v in vals] if n > 0 else vals
            indices.extend(cols)
            data.extend(vals)
            indptr.append(len(indices))
        return self._csr(
            (
                np.asarray(data, dtype=self._dtype),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(indptr) - 1, self._n),
        )


class SingleThreadANN:
    """The nmslib index with ``knnQueryBatch`` on the calling thread.

    scispaCy queries with nmslib's default ``num_threads=0`` (every core), which starts a
    thread pool per call; the linker queries one mention's few strings at a time, where the
    pool costs more than the search (and worker processes already use the cores).
    """

    def __init__(self, ann):
        self._ann = ann

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._ann, name)

    def knnQueryBatch(self, queries, k=10, num_threads=1):
        return self._ann.knnQueryBatch(queries, k=k, num_threads=1)


def load_index(directory: Path, ef_search: int = 100):
    """(aliases, vectorizer, ann_index) through scispaCy's loader."""
    from scispacy.candidate_generation import LinkerPaths

    return LinkerPaths.from_directory(directory).load(ef_search=ef_search)
