"""One rank of the data-parallel tests: ``torchrun ... _distributed_worker.py OUT_DIR``.

Each rank fits the models of :data:`CASES` in a gloo process group and saves
what the tests compare (weights, history, outputs) to ``OUT_DIR/<case>-<rank>.pt``.
tests/test_distributed.py launches it and fits the one-process references.
"""

import os
import sys

import numpy as np
import torch

import skaae._base as base
from skaae.priors import Prior

# Small enough for two ranks on two cores in seconds; the tests import these.
SMALL = dict(
    hidden_layer_sizes=(32,), discriminator_hidden_layer_sizes=(16,), device="cpu",
    random_state=0,
)


class ConstantPrior(Prior):
    """A prior whose draws are all the same point, drawn without the generator.

    With it and without noise nothing in a step is random, and one process
    shuffles with the generator alone, as the ranks do: two ranks must then
    compute what one process computes, up to the order of float additions.
    """

    def _draw(self, n_samples, n_dims, generator, labels):
        return torch.full((n_samples, n_dims), 0.5, device=generator.device)

    def __repr__(self):
        return "ConstantPrior()"


def data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    partly_labeled = y.copy()
    partly_labeled[np.random.RandomState(0).rand(len(y)) > 0.3] = -1
    return X, y, partly_labeled


def cases():
    """Name -> (estimator, fit arguments). Every estimator and every kind of step."""
    from skaae import AdversarialAutoencoder, ClusteringAAE, SemiSupervisedAAE, SupervisedAAE

    X, y, partly_labeled = data()
    return {
        # 321 rows at batch 64: the last mini-batch has one row, so rank 0 has
        # none of it, and the mini-batches of 64 split 32 / 32.
        "exact": (
            AdversarialAutoencoder(
                n_components=2, prior=ConstantPrior(), batch_size=64, max_epochs=3, **SMALL
            ),
            (X[:321],),
        ),
        # 403 rows: a last mini-batch of 19 rows, split 9 / 10.
        "exact_uneven": (
            AdversarialAutoencoder(
                n_components=2, prior=ConstantPrior(), batch_size=64, max_epochs=3, **SMALL
            ),
            (X[:403],),
        ),
        "autoencoder": (
            AdversarialAutoencoder(
                n_components=2, input_noise=0.2, dropout=0.1, encoder_type="gaussian",
                discriminator_noise=0.1, early_stopping=True, n_iter_no_change=2,
                batch_size=100, max_epochs=12, **SMALL,
            ),
            (X,),
        ),
        "supervised": (
            SupervisedAAE(n_components=2, encoder_type="universal", max_epochs=2, **SMALL),
            (X[:500], y[:500]),
        ),
        "semi_supervised": (
            SemiSupervisedAAE(
                n_components=4, neighbor_weight=0.5, consistency_weight=0.5,
                labeled_batch_size=33, input_noise=0.1, batch_size=100, max_epochs=8,
                learning_rate_init=3e-3, classification_weight=2.0, **SMALL,
            ),
            (X, partly_labeled),
        ),
        "clustering": (
            ClusteringAAE(n_clusters=6, n_components=2, head_distance=2.0, max_epochs=2, **SMALL),
            (X[:500],),
        ),
    }


def summary(model, X):
    """What must be the same on every rank (and close to one process)."""
    out = {
        "state": {
            key: {k: v.detach().clone() for k, v in net.state_dict().items()}
            for key, net in model._networks.items()
        },
        "history": model.history_,
        "n_iter": model.n_iter_,
        "transform": model.transform(X),
        "score": model.score(X) if not hasattr(model, "predict") else None,
    }
    if hasattr(model, "predict"):
        out["predict"] = model.predict(X)
    return out


def main(out_dir):
    import torch.distributed as dist

    from skaae import AdversarialAutoencoder
    from skaae._checkpoint import Checkpoint

    torch.set_num_threads(1)
    # No backend named, as in the docs' recipe: gloo for CPU tensors.
    dist.init_process_group()
    rank = dist.get_rank()
    X, y, _ = data()
    # Which gradient reduction each fit's DataParallel chose.
    made = []
    make = base.data_parallel

    def recording(device):
        made.append(make(device))
        return made[-1]

    base.data_parallel = recording
    for name, (model, args) in cases().items():
        model.fit(*args)
        torch.save(
            {**summary(model, X), "reduction": made[-1].reduction},
            os.path.join(out_dir, f"{name}-{rank}.pt"),
        )

    # The same exact fit through gloo's all-reduce: a LOCAL_WORLD_SIZE other
    # than the world size says the ranks are not all on one machine.
    local_world_size = os.environ["LOCAL_WORLD_SIZE"]
    os.environ["LOCAL_WORLD_SIZE"] = "1"
    model, args = cases()["exact_uneven"]
    model.fit(*args)
    os.environ["LOCAL_WORLD_SIZE"] = local_world_size
    torch.save(
        {**summary(model, X), "reduction": made[-1].reduction},
        os.path.join(out_dir, f"all_reduce-{rank}.pt"),
    )

    # A fit that ends after its second epoch (as if killed), then resumed from
    # its checkpoint, against the same fit uninterrupted.
    writes = []
    write = Checkpoint.write

    def counting_write(self, engine, loop):
        writes.append(loop["epochs_done"])
        write(self, engine, loop)

    params = dict(n_components=2, input_noise=0.2, batch_size=64, max_epochs=4, **SMALL)
    path = os.path.join(out_dir, "fit.ckpt")

    class Stop(Exception):
        pass

    original = Checkpoint.on_epoch_end

    def stop_after_two(self, engine, epochs_done, record):
        original(self, engine, epochs_done, record)
        if epochs_done == 2:
            raise Stop  # on every rank: a crash after the checkpoint of epoch 2
        return False

    Checkpoint.write = counting_write
    Checkpoint.on_epoch_end = stop_after_two
    try:
        AdversarialAutoencoder(checkpoint=path, **params).fit(X[:403])
    except Stop:
        pass
    Checkpoint.on_epoch_end = original
    resumed = AdversarialAutoencoder(checkpoint=path, **params).fit(X[:403])
    uninterrupted = AdversarialAutoencoder(**params).fit(X[:403])
    torch.save(
        {"resumed": summary(resumed, X), "uninterrupted": summary(uninterrupted, X),
         "writes": writes},
        os.path.join(out_dir, f"resume-{rank}.pt"),
    )

    # Errors that one rank finds must end the fit on every rank.
    errors = {}
    for name, fit in {
        # Each rank given other rows.
        "other_data": lambda: AdversarialAutoencoder(max_epochs=1, **SMALL).fit(
            X[rank : 300 + rank]
        ),
        # The checkpoint of another fit, which rank 0 alone reads.
        "other_checkpoint": lambda: AdversarialAutoencoder(
            checkpoint=path, **{**params, "max_epochs": 5}
        ).fit(X[:403]),
    }.items():
        try:
            fit()
        except ValueError as error:
            errors[name] = str(error)
    torch.save(errors, os.path.join(out_dir, f"errors-{rank}.pt"))
    dist.destroy_process_group()
    # Leave without the interpreter's teardown: in about one launch in six
    # gloo's threads were torn down there in an order that aborted the
    # process ("terminate called without an active exception") after every
    # result had been written; the test judges the results, not the teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
