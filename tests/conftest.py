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
        "--long", action="store_true", default=False,
        help="long profiles: 20 kill/resume runs per command, >= 10,000 fuzzing examples per target",
    )


def pytest_configure(config):
    from hypothesis import settings

    settings.register_profile("fast", max_examples=20, deadline=None)
    settings.register_profile("long", max_examples=10_000, deadline=None)
    settings.load_profile("long" if config.getoption("--long") else "fast")
