import pytest
import torch
from threadpoolctl import threadpool_limits

# The tests use tiny networks: one thread per test process is fastest, and with
# pytest-xdist it keeps two workers from fighting over two cores.
torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def single_threaded_blas():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16.0, y
