"""The suite runs in random order (pytest-randomly, in the dev extra) and in file order
(``-p no:randomly``). Every seed pytest-randomly makes must reach the seeders without error."""

from __future__ import annotations

import random
import sys

import numpy
import pytest_randomly


def test_entry_point_seeders_accept_seeds_beyond_32_bits():
    # tests/conftest.py wraps them at configure time, with or without -p no:randomly
    seeders = pytest_randomly.entrypoint_reseeds
    assert seeders and any(getattr(s, "args", (None,))[0].__module__.startswith("thinc") for s in seeders)
    torch = sys.modules.get("torch")  # thinc seeds torch too, where it is loaded
    saved = random.getstate(), numpy.random.get_state(), torch.random.get_rng_state() if torch else None
    try:
        biggest = (2**32 - 1) + (2**32 - 1) + 1  # run seed + CRC32 of the test id + 1
        for seeder in seeders:
            seeder(biggest)
        assert numpy.random.randint(1 << 30) == numpy.random.RandomState(biggest % 2**32).randint(1 << 30)
        assert random.random() == random.Random(biggest % 2**32).random()
    finally:
        random.setstate(saved[0])
        numpy.random.set_state(saved[1])
        if torch:
            torch.random.set_rng_state(saved[2])
