"""Data-parallel training: two CPU ranks under torchrun (gloo on the loopback)
train one model, identical on both ranks, and compute what one process computes."""

import importlib.util
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.distributed as dist

from skaae import AdversarialAutoencoder
from skaae import _distributed as distributed
from skaae._distributed import DataParallel, OneProcess, data_parallel
from skaae._engine import Batch

pytestmark = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="torch.distributed with the gloo backend is not available",
)

WORKER = Path(__file__).with_name("_distributed_worker.py")
ROOT = Path(__file__).resolve().parents[1]
#: The rank processes start in seconds and fit in seconds; this only ends a hang.
LAUNCH_TIMEOUT = 240


def _worker_module():
    spec = importlib.util.spec_from_file_location("_distributed_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worker = _worker_module()
CASES = list(worker.cases())


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """Run the worker on two ranks once; ``load(case, rank)`` reads what a rank saved."""
    out = tmp_path_factory.mktemp("ranks")
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={_free_port()}", str(WORKER), str(out),
    ]
    # A session of its own, so that a hang ends with torchrun and both ranks.
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=LAUNCH_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"two ranks did not finish in {LAUNCH_TIMEOUT} s:\n{output[-4000:]}")
    assert process.returncode == 0, output[-4000:]
    return lambda case, rank: torch.load(out / f"{case}-{rank}.pt", weights_only=False)


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        for name, value in a[key].items():
            assert torch.equal(value, b[key][name]), f"{key}.{name} differs"


@pytest.mark.parametrize("case", CASES)
def test_both_ranks_end_with_identical_weights_history_and_outputs(two_ranks, case):
    first, second = two_ranks(case, 0), two_ranks(case, 1)
    _assert_same_weights(first["state"], second["state"])
    assert first["history"] == second["history"]  # losses, validation and times
    np.testing.assert_array_equal(first["transform"], second["transform"])
    if "predict" in first:
        np.testing.assert_array_equal(first["predict"], second["predict"])


@pytest.mark.parametrize("case", ["exact", "exact_uneven"])
def test_two_ranks_compute_what_one_process_computes(two_ranks, case):
    # Nothing random in the steps (no noise, a constant prior): the same
    # shuffles and the share-weighted gradients must give one process's
    # updates, up to the order of float additions, also on a last mini-batch
    # of one row (one rank has none of it) or of an odd number.
    model, args = worker.cases()[case]
    model.fit(*args)
    ranks = two_ranks(case, 0)
    for key, net in model._networks.items():
        for name, value in net.state_dict().items():
            torch.testing.assert_close(ranks["state"][key][name], value, rtol=1e-5, atol=1e-6)
    assert len(ranks["history"]) == len(model.history_)
    for got, want in zip(ranks["history"], model.history_):
        for name in ("reconstruction", "discriminator", "adversarial"):
            assert got[name] == pytest.approx(want[name], rel=1e-5)


@pytest.mark.skipif(os.name != "posix", reason="the shared-memory reduction needs POSIX")
def test_ranks_on_one_machine_reduce_through_shared_memory(two_ranks):
    for rank in (0, 1):
        assert {two_ranks(case, rank)["reduction"] for case in CASES} == {"shared_memory"}


def test_ranks_on_several_machines_reduce_with_the_process_group(two_ranks):
    # Told that the ranks are not all local, they all-reduce with gloo, and
    # get the shared-memory fit's weights bit for bit (two float32 addends
    # sum alike in either order).
    for rank in (0, 1):
        fallback = two_ranks("all_reduce", rank)
        assert fallback["reduction"] == "all_reduce"
        _assert_same_weights(fallback["state"], two_ranks("exact_uneven", rank)["state"])
        assert fallback["history"][-1]["reconstruction"] == pytest.approx(
            two_ranks("exact_uneven", rank)["history"][-1]["reconstruction"], abs=0
        )


def test_two_ranks_reach_the_quality_of_one_process(two_ranks):
    X, y, _ = worker.data()
    model, args = worker.cases()["autoencoder"]
    one_process = model.fit(*args).score(X)
    assert two_ranks("autoencoder", 0)["score"] == pytest.approx(one_process, rel=0.1)

    model, args = worker.cases()["semi_supervised"]
    one_process = np.mean(model.fit(*args).predict(X) == y)
    # Seeds 0 to 3 of one process reach 0.92 to 0.93 here.
    assert np.mean(two_ranks("semi_supervised", 0)["predict"] == y) == pytest.approx(
        one_process, abs=0.04
    )


def test_rank_0_alone_writes_checkpoints_and_resumes_exactly(two_ranks):
    first, second = two_ranks("resume", 0), two_ranks("resume", 1)
    assert first["writes"] == [1, 2, 3, 4]  # two epochs, a crash, then the last two
    assert second["writes"] == []
    for rank in (first, second):
        _assert_same_weights(rank["resumed"]["state"], rank["uninterrupted"]["state"])
        losses = [
            [{k: v for k, v in record.items() if k != "duration"} for record in fit["history"]]
            for fit in (rank["resumed"], rank["uninterrupted"])
        ]
        assert losses[0] == losses[1]


def test_an_error_found_on_one_rank_ends_the_fit_on_every_rank(two_ranks):
    for rank in (0, 1):
        errors = two_ranks("errors", rank)
        assert "different training data" in errors["other_data"]
        assert "belongs to another fit" in errors["other_checkpoint"]


def test_shares_of_a_mini_batch_and_of_its_draws_add_up():
    for world_size in (2, 3, 4):
        for n_rows in (1, 2, 7, 64, 100):
            parts = [
                DataParallel.share(SimpleNamespace(rank=r, world_size=world_size), n_rows)
                for r in range(world_size)
            ]
            assert [p[0] for p in parts[1:]] == [p[1] for p in parts[:-1]]
            assert (parts[0][0], parts[-1][1]) == (0, n_rows)
            for n_draws in (5, 33, 100):
                draws = [
                    Batch({"x": torch.zeros(end - begin)}, None, None, (begin, end, n_rows))
                    .share(n_draws) for begin, end in parts
                ]
                # Every rank with rows draws at least once, so the ranks may
                # draw a few more than one process; as many when all shares are even.
                assert all(d >= 1 for d, (b, e) in zip(draws, parts) if e > b)
                assert n_draws <= sum(draws) <= n_draws + world_size
                if n_rows % world_size == 0 and n_draws % world_size == 0:
                    assert draws == [n_draws // world_size] * world_size


def test_each_rank_takes_its_local_gpu(monkeypatch):
    # The CUDA path without a GPU: under torchrun "cuda" (what device="auto"
    # resolves to on a GPU machine) becomes cuda:LOCAL_RANK; an index stays.
    monkeypatch.setattr(distributed, "_running", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert distributed.rank_device(torch.device("cuda")) == torch.device("cuda", 3)
    assert distributed.rank_device(torch.device("cuda", 1)) == torch.device("cuda", 1)
    assert distributed.rank_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("config, cpu, cuda", [
    ("cpu:gloo", "gloo", None),  # init_process_group() on a CPU-only build
    ("cpu:gloo,cuda:nccl", "gloo", "nccl"),  # ... with CUDA
    ("nccl", "nccl", "nccl"),  # one backend named: it handles every device
])
def test_the_backend_of_each_device_is_read_from_the_group(monkeypatch, config, cpu, cuda):
    monkeypatch.setattr(distributed, "_backend_config", lambda: config)
    assert (distributed._backend_for("cpu"), distributed._backend_for("cuda")) == (cpu, cuda)


def test_a_group_of_one_rank_trains_as_a_plain_process(digits):
    X = digits[0][:200]
    params = dict(
        hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,), max_epochs=2,
        input_noise=0.1, device="cpu", random_state=0,
    )
    plain = AdversarialAutoencoder(**params).fit(X)
    store = dist.TCPStore("127.0.0.1", _free_port(), 1, is_master=True)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        assert isinstance(data_parallel(torch.device("cpu")), OneProcess)
        in_group = AdversarialAutoencoder(**params).fit(X)
    finally:
        dist.destroy_process_group()
    np.testing.assert_array_equal(in_group.transform(X), plain.transform(X))
