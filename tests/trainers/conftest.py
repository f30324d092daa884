"""Fixtures for the trainer tests (fit, evaluate, predict): fresh auto names
(Keras's reference facts, tiny data and float64 references are in
``tests/conftest.py``).

Every test starts with ``backend.clear_session()`` so that auto names
(``dense``, ``sequential``...) do not depend on which tests ran before.
"""

from __future__ import annotations

import pytest

from tinyann import backend


@pytest.fixture(autouse=True)
def fresh_session():
    backend.clear_session()
    yield
    backend.clear_session()
