"""Shared fixtures: the repo on sys.path and the shared data folder."""

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = os.environ.get(
    "ALBERT_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))


@pytest.fixture
def shared_data():
    if not os.path.isdir(SHARED_DATA):
        pytest.fail(f"shared data folder not found: {SHARED_DATA} (set ALBERT_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _float32_policy():
    """Each test starts and ends under the float32 policy."""
    import keras

    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")
