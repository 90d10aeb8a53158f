"""The benchmarks' command-line helpers (benchmarks/_common.py)."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "_common.py"


@pytest.fixture(scope="module")
def common():
    spec = importlib.util.spec_from_file_location("bench_common", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_variant_keeps_tuple_values_whole(common):
    assert common.parse_variant(
        "hidden_layer_sizes=(1000, 1000),learning_rate_init=2e-4,reconstruction_loss='bce'"
    ) == {"hidden_layer_sizes": (1000, 1000), "learning_rate_init": 2e-4, "reconstruction_loss": "bce"}
    assert common.parse_variant("defaults") == {}


def test_a_variant_without_a_value_is_a_clear_error(common):
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        common.parse_variant("learning_rate_decay")
