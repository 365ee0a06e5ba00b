"""Shared fixtures: the repo on sys.path and the test data shipped in tests/data."""

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Real data trimmed from the project's shared data (tests/data/README.md: sources and licenses).
TEST_DATA = os.path.join(REPO, "tests", "data")


@pytest.fixture
def test_data():
    return TEST_DATA


@pytest.fixture(autouse=True)
def _float32_policy():
    """Each test starts and ends under the float32 policy."""
    import keras

    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")
