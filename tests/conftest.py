"""Shared fixtures: the rule pipeline is built once per test session (it takes ~10 s)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def rule_nlp():
    """The default CheXpert rule pipeline, as cached by ``reportlab_nlp.labeler``.

    ``label_texts`` and the ``label`` command (without linking) reuse this same object.
    """
    from reportlab_nlp.labeler import PipelineSpec, get_pipeline

    return get_pipeline(PipelineSpec())


def pytest_addoption(parser):
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="long profiles: 20 kill/resume runs per command, >= 10,000 fuzzing examples per target",
    )


def pytest_configure(config):
    from hypothesis import settings

    settings.register_profile("fast", max_examples=20, deadline=None)
    settings.register_profile("long", max_examples=10_000, deadline=None)
    settings.load_profile("long" if config.getoption("--long") else "fast")
    _bound_randomly_seeders()


def _bounded(seeder, seed: int) -> None:
    seeder(seed % 2**32)


def _bound_randomly_seeders() -> None:
    """pytest-randomly hands every ``pytest_randomly.random_seeder`` entry point the run's seed plus
    a CRC32 of the test id (up to 2**33). thinc (spaCy's) registers ``fix_random_seed``, which calls
    ``numpy.random.seed`` and refuses seeds of 2**32 and more: under a random run seed about half of
    the tests then error at setup. The seeders get the seed modulo 2**32, as pytest-randomly does
    for numpy itself (tests/test_random_order.py)."""
    try:
        import pytest_randomly
    except ImportError:  # not installed: file order, nothing reseeds
        return
    if getattr(pytest_randomly, "entrypoint_reseeds", None) is None:
        from functools import partial
        from importlib.metadata import entry_points

        seeders = [e.load() for e in entry_points(group="pytest_randomly.random_seeder")]
        pytest_randomly.entrypoint_reseeds = [partial(_bounded, s) for s in seeders]


@pytest.fixture(scope="session")
def det():
    """One default de-id ``Detector`` for the de-id test files that need no special options
    (building one loads the word lists; files needing ``times=True`` define their own)."""
    from reportlab_nlp.deid import Detector

    return Detector()
