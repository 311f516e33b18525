"""Helpers the tests (and benchmarks that add ``tests/`` to ``sys.path``) import: not part of the product."""
