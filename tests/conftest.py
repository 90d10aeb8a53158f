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


#: Networks small enough for tests that need a fitted model, not a good one.
TINY = dict(
    hidden_layer_sizes=(16,),
    discriminator_hidden_layer_sizes=(16,),
    max_epochs=2,
    device="cpu",
    random_state=0,
)


@pytest.fixture(scope="session")
def tiny_params():
    return dict(TINY)


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def autoencoder(small_digits):
    """A fitted AdversarialAutoencoder with a 2-D code (tiny networks)."""
    from skaae import AdversarialAutoencoder

    return AdversarialAutoencoder(n_components=2, **TINY).fit(small_digits[0])


@pytest.fixture(scope="module")
def supervised(small_digits):
    """A fitted SupervisedAAE with a 2-D style code (tiny networks)."""
    from skaae import SupervisedAAE

    return SupervisedAAE(n_components=2, **TINY).fit(*small_digits)


@pytest.fixture
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
