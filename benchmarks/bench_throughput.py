"""Training and inference speed against the machine's limit and the hand-written loop, in one run.

The reference is the classic tutorial AAE loop, written plainly below: encoder
784-1000-1000-z, mirrored decoder with a sigmoid, discriminator z-1000-1000-1
with a sigmoid, a DataLoader over a TensorDataset with batch 100, and three
phases per batch, each with a fresh encoder pass. skaae trains the same
networks with the same batch size on the same data, in float32 and bfloat16.

For every run the script prints:

- samples/s (best of ``--repeats``) and the ratio to the tutorial loop;
- FLOPs per sample, counted by :class:`torch.utils.flop_counter.FlopCounterMode`
  over one training batch, so they are the matrix products of the phases that
  actually run (skaae runs fewer encoder passes than the tutorial loop);
- the achieved GFLOP/s and its fraction of the *matmul ceiling*: the rate of the
  very matrix products these networks run (forward, input gradient and weight
  gradient of every layer at batch 100), measured in the same run, in the same
  precision.

After the table, the *bound*: the time per batch of the bf16 step's matrix
products at the ceiling, of the fused Adam updates of the weights the three
phases update, and of the casts that fp32 master weights require, each
measured on tensors of the real shapes; with fp32 master weights no
implementation can exceed products / (products + Adam + casts) of the ceiling.

It also prints inference throughput (``transform`` and ``predict``), peak
memory of ``fit`` on 60,000 x 784 (in a child process, so nothing else counts),
and the quality of float32 against bfloat16 training on held-out data;
``--try-compile`` times the tutorial loop with its networks under
``torch.compile``.

Data: Fashion-MNIST from local files when installed
(``apt-get install dataset-fashion-mnist``), otherwise scikit-learn's digits
upsampled to 28x28. Usage::

    python benchmarks/bench_throughput.py [--n-samples 6000] [--epochs 2] [--repeats 2]
        [--quality-epochs 10] [--skip-quality] [--skip-memory] [--skip-speed] [--profile]
        [--try-compile]

Absolute numbers depend on the machine and its load; compare the ratios and
fractions printed by one run.
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.neighbors import KNeighborsClassifier
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import print_machine  # noqa: E402

from skaae import AdversarialAutoencoder, SemiSupervisedAAE  # noqa: E402

HIDDEN = 1000
BATCH = 100
N_CLASSES = 10


# -- the reference: the loop users write by hand ------------------------------------
def tutorial_loop(X, n_components, epochs, *, bf16=False, compile=False, seed=0,
                  max_batches=None, device="cpu"):
    """The tutorial's three phases per batch, each with its own encoder pass.

    Returns the duration of each epoch. ``compile=True`` runs the three networks
    through ``torch.compile`` (the first epoch then includes the compilation).
    """
    torch.manual_seed(seed)
    n_features = X.shape[1]

    def mlp(n_in, n_out, last=None):
        layers = [nn.Linear(n_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                  nn.Linear(HIDDEN, n_out)]
        return nn.Sequential(*layers, *([last] if last else []))

    encoder, decoder = mlp(n_features, n_components), mlp(n_components, n_features, nn.Sigmoid())
    discriminator = mlp(n_components, 1, nn.Sigmoid())
    encoder, decoder, discriminator = (net.to(device) for net in (encoder, decoder, discriminator))
    if compile:
        encoder, decoder, discriminator = map(torch.compile, (encoder, decoder, discriminator))
    opt_decoder = torch.optim.Adam(decoder.parameters(), lr=1e-3)
    opt_encoder = torch.optim.Adam(encoder.parameters(), lr=1e-3)
    opt_generator = torch.optim.Adam(encoder.parameters(), lr=1e-3)
    opt_discriminator = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.as_tensor(X, dtype=torch.float32)),
        batch_size=BATCH, shuffle=True,
    )
    tiny = 1e-8
    durations = []
    with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
        for _ in range(epochs):
            start = time.perf_counter()
            for batch_index, (x,) in enumerate(loader):
                if max_batches is not None and batch_index >= max_batches:
                    break
                x = x.to(device)
                # Reconstruction.
                opt_encoder.zero_grad(); opt_decoder.zero_grad()
                x_hat = decoder(encoder(x)).float()
                # CUDA's autocast refuses binary_cross_entropy; it runs in fp32 anyway.
                with torch.autocast(torch.device(device).type, enabled=False):
                    loss = nn.functional.binary_cross_entropy(x_hat + tiny, x)
                loss.backward(); opt_encoder.step(); opt_decoder.step()
                # Discriminator.
                encoder.eval()
                z_real = torch.randn(len(x), n_components, device=device)
                z_fake = encoder(x)
                d_loss = -torch.mean(torch.log(discriminator(z_real).float() + tiny)
                                     + torch.log(1 - discriminator(z_fake).float() + tiny))
                opt_discriminator.zero_grad(); d_loss.backward(); opt_discriminator.step()
                # Generator.
                encoder.train()
                g_loss = -torch.mean(torch.log(discriminator(encoder(x)).float() + tiny))
                opt_generator.zero_grad(); g_loss.backward(); opt_generator.step()
            _synchronize(device)
            durations.append(time.perf_counter() - start)
    return durations


# -- skaae ---------------------------------------------------------------------------
def make_aae(n_components, precision, epochs, seed=0, device="cpu"):
    return AdversarialAutoencoder(
        n_components=n_components, hidden_layer_sizes=(HIDDEN, HIDDEN),
        discriminator_hidden_layer_sizes=(HIDDEN, HIDDEN), batch_size=BATCH, max_epochs=epochs,
        reconstruction_loss="bce", precision=precision, device=device, random_state=seed,
    )


def make_semi(precision, epochs, seed=0, device="cpu"):
    return SemiSupervisedAAE(
        n_components=10, hidden_layer_sizes=(HIDDEN, HIDDEN),
        discriminator_hidden_layer_sizes=(HIDDEN, HIDDEN), batch_size=BATCH, max_epochs=epochs,
        reconstruction_loss="bce", precision=precision, device=device, random_state=seed,
    )


def partially_labeled(y, per_class, seed=0):
    """``y`` with all but ``per_class`` points of each class set to -1 (unlabeled)."""
    rng = np.random.RandomState(seed)
    y_partial = np.full_like(y, -1)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        chosen = rng.choice(members, min(per_class, len(members)), replace=False)
        y_partial[chosen] = y[chosen]
    return y_partial


# -- measurements --------------------------------------------------------------------
def flops_per_sample(train_one_batch):
    """Matrix-product FLOPs of one training batch (forward and backward), per sample."""
    with FlopCounterMode(display=False) as counter:
        train_one_batch()
    return counter.get_total_flops() / BATCH


def linear_shapes(n_features, n_components):
    """(inputs, outputs) of every Linear layer of encoder, decoder and discriminator."""
    widths = [n_features, HIDDEN, HIDDEN, n_components]
    encoder = list(zip(widths[:-1], widths[1:]))
    decoder = [(o, i) for i, o in reversed(encoder)]
    discriminator = [(n_components, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, 1)]
    return encoder + decoder + discriminator


def matmul_ceiling(shapes, dtype, *, repeats=5, iterations=10, device="cpu"):
    """GFLOP/s of the forward, input-gradient and weight-gradient products of ``shapes``."""
    products = []
    for n_in, n_out in shapes:
        x = torch.randn(BATCH, n_in, dtype=dtype, device=device)
        w = torch.randn(n_out, n_in, dtype=dtype, device=device)
        g = torch.randn(BATCH, n_out, dtype=dtype, device=device)
        products += [(x, w.t()), (g, w), (g.t(), x)]
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in products) * iterations
    best = float("inf")
    for _ in range(repeats):
        best = min(best, _timed(lambda: [torch.mm(a, b) for _ in range(iterations)
                                         for a, b in products], device))
    return flops / best / 1e9


def square_ceiling(dtype, size=2048, repeats=3, device="cpu"):
    a = torch.randn(size, size, dtype=dtype, device=device)
    b = torch.randn(size, size, dtype=dtype, device=device)
    torch.mm(a, b)
    best = min(_timed(lambda: torch.mm(a, b), device) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _synchronize(device):
    # CUDA kernels run asynchronously: a timer must wait for the queued work.
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _timed(function, device="cpu"):
    _synchronize(device)
    start = time.perf_counter()
    function()
    _synchronize(device)
    return time.perf_counter() - start


def best_rate(function, n_samples, repeats, device="cpu"):
    return max(n_samples / _timed(function, device) for _ in range(repeats))


def load_rows(n_samples, seed=0, directory=None):
    """``n_samples`` rows of 784 features in [0, 1] and their labels, plus held-out rows."""
    try:
        from skaae.datasets import load_fashion_mnist

        folder = {} if directory is None else {"directory": directory}
        X, y = load_fashion_mnist(**folder, kind="train")
        X_test, y_test = load_fashion_mnist(**folder, kind="test")
        source = "Fashion-MNIST"
    except (FileNotFoundError, OSError):
        digits = load_digits()
        # 8x8 -> 24x24 by repetition, padded to 28x28: 784 features like MNIST.
        images = np.kron(digits.images / 16.0, np.ones((3, 3)))
        images = np.pad(images, ((0, 0), (2, 2), (2, 2)))
        X, y = images.reshape(len(images), -1).astype(np.float32), digits.target
        X_test, y_test = X[-500:], y[-500:]
        X, y = X[:-500], y[:-500]
        source = "digits upsampled to 28x28 (Fashion-MNIST not installed)"
    rng = np.random.RandomState(seed)
    chosen = rng.permutation(len(X))[:n_samples]
    return X[chosen], y[chosen], X_test[:2000], y_test[:2000], source


MEMORY_SCRIPT = r"""
import sys, numpy as np, torch
from skaae import AdversarialAutoencoder
def high_water_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
try:
    from skaae.datasets import load_fashion_mnist
    X, _ = load_fashion_mnist(kind="train")
except (FileNotFoundError, OSError):
    X = np.random.RandomState(0).rand(60000, 784).astype(np.float32)
X = X[:60000]
before = high_water_mb()
AdversarialAutoencoder(n_components=2, hidden_layer_sizes=(1000, 1000),
    discriminator_hidden_layer_sizes=(1000, 1000), max_epochs=1, reconstruction_loss="bce",
    precision=sys.argv[1], device="cpu", random_state=0).fit(X)
print(X.shape[0], X.shape[1], before, high_water_mb())
"""


def peak_memory(precision):
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, precision], capture_output=True, text=True, check=True
    ).stdout.split()
    n, d, before, after = int(out[0]), int(out[1]), float(out[2]), float(out[3])
    return n, d, before, after


# -- the report ----------------------------------------------------------------------
def print_table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def training_section(args, X, y):
    n, device = len(X), args.device
    y_semi = partially_labeled(y, 100)
    # One ceiling for every row: the products of the z=10 AAE's layers. The other
    # models run products of the same dominant shapes (1000 x 1000 at batch 100);
    # they differ only in the thin first and last layers of the codes' side.
    ceilings = {
        short: matmul_ceiling(linear_shapes(X.shape[1], 10), dtype, device=device)
        for short, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))
    }
    print(f"matmul ceiling of these layers at batch {BATCH}: fp32 {ceilings['fp32']:.0f} GFLOP/s, "
          f"bf16 {ceilings['bf16']:.0f} GFLOP/s; 2048-square products: fp32 "
          f"{square_ceiling(torch.float32, device=device):.0f}, "
          f"bf16 {square_ceiling(torch.bfloat16, device=device):.0f} GFLOP/s\n")

    runs = []  # (model, training, precision, train(epochs), count flops, reference name)
    for z in (2, 10):
        model = f"AAE 784-1000-1000-{z}"
        reference = f"{model}/tutorial loop fp32"
        runs += [
            (model, "tutorial loop", "fp32",
             lambda e, z=z: tutorial_loop(X, z, e, device=device),
             lambda z=z: tutorial_loop(X[:BATCH], z, 1, device=device), reference),
            (model, "tutorial loop + autocast", "bf16",
             lambda e, z=z: tutorial_loop(X, z, e, bf16=True, device=device),
             lambda z=z: tutorial_loop(X[:BATCH], z, 1, bf16=True, device=device), reference),
        ]
        for precision, short in (("float32", "fp32"), ("bfloat16", "bf16")):
            runs.append((
                model, "skaae", short,
                lambda e, z=z, p=precision: make_aae(z, p, e, device=device).fit(X),
                lambda z=z, p=precision: make_aae(z, p, 1, device=device).fit(X[:BATCH]),
                reference,
            ))
    for precision, short in (("float32", "fp32"), ("bfloat16", "bf16")):
        runs.append((
            "SemiSupervisedAAE 784-1000-1000-(10+10)", "skaae", short,
            lambda e, p=precision: make_semi(p, e, device=device).fit(X, y_semi),
            lambda p=precision: make_semi(p, 1, device=device).fit(X[:BATCH], y_semi[:BATCH]),
            None,
        ))

    rates = {}
    for _ in range(args.repeats):  # interleaved, so a change of load hits every run alike
        for model, training, precision, train, _, _ in runs:
            key = f"{model}/{training} {precision}"
            rate = n * args.epochs / _timed(lambda: train(args.epochs), device)
            rates[key] = max(rates.get(key, 0.0), rate)
    rows, achieved_by_key, flops_by_key = [], {}, {}
    for model, training, precision, _, count, reference in runs:
        key = f"{model}/{training} {precision}"
        flops = flops_by_key[key] = flops_per_sample(count)
        achieved = achieved_by_key[key] = rates[key] * flops / 1e9
        ratio = f"{rates[key] / rates[reference]:.2f}x" if reference else "n/a"
        rows.append([model, training, precision, f"{rates[key]:,.0f}", ratio,
                     f"{flops / 1e6:.1f}", f"{achieved:.0f}",
                     f"{100 * achieved / ceilings[precision]:.0f}%"])
    print_table(["model", "training", "precision", "samples/s", "vs tutorial fp32",
                 "MFLOP/sample", "GFLOP/s", "of matmul ceiling"], rows)
    if torch.device(device).type != "cpu":
        return ceilings  # the bound below times CPU memory traffic
    key = "AAE 784-1000-1000-10/skaae {}"
    bound_section(X.shape[1], ceilings, flops_by_key[key.format("bf16")],
                  {p: achieved_by_key[key.format(p)] for p in ("fp32", "bf16")})
    return ceilings


def bound_section(n_features, ceilings, flops_per_sample, achieved):
    """The best fraction of the matmul ceiling that a step with fp32 master weights can reach.

    Besides its matrix products, every bf16 training batch with fp32 master
    weights must (a) run Adam over the weights each phase updates and (b) cast
    the weights each phase reads to bf16 after their last update, and the
    weight gradients back to fp32. Both are memory-bound; their times, measured
    here on tensors of the real shapes, bound the fraction of the ceiling any
    implementation of the algorithm can reach on this machine. In fp32 only the
    Adam updates remain.
    """
    shapes = linear_shapes(n_features, 10)
    def layer_tensors(part):
        return [t for n_in, n_out in part for t in (torch.randn(n_out, n_in), torch.randn(n_out))]
    encoder, decoder, critic = (layer_tensors(shapes[i : i + 3]) for i in (0, 3, 6))
    # The skaae AAE's phases: reconstruction updates encoder and decoder, the
    # discriminator step the critic, the adversarial step the encoder.
    updated = [encoder + decoder, critic, encoder]
    optimizers, gradients = [], []
    for group in updated:
        params = [torch.nn.Parameter(t.clone()) for t in group]
        for p in params:
            p.grad = torch.randn_like(p)
        optimizers.append(torch.optim.Adam(params, lr=1e-4, betas=(0.5, 0.999), fused=True))
        gradients.append([torch.randn_like(t, dtype=torch.bfloat16) for t in group])
    # Weights each phase reads after their last update: encoder and decoder
    # (reconstruction); the encoder again, for a fresh code, and the critic
    # (discriminator step); the critic again, after its update (adversarial step).
    read = [encoder + decoder, encoder + critic, critic]

    def adam():
        for optimizer in optimizers:
            optimizer.step()

    def cast(weights, grads):
        for t in weights:
            t.to(torch.bfloat16)
        for g in grads:
            g.to(torch.float32)

    def casts():
        for weights, grads in zip(read, gradients):
            cast(weights, grads)

    def phases():
        # In the order of a real batch, so the casts find the caches as they
        # would: each phase casts its weights and gradients, then updates.
        for weights, grads, optimizer in zip(read, gradients, optimizers):
            cast(weights, grads)
            optimizer.step()

    def per_batch(function, repeats=5, iterations=10):
        function()
        return min(_timed(lambda: [function() for _ in range(iterations)])
                   for _ in range(repeats)) / iterations

    products = {p: flops_per_sample * BATCH / (ceilings[p] * 1e9) for p in ceilings}
    adam_time = per_batch(adam)
    # Casts alone run from warm caches; timed between the updates, as in
    # training, they cost more, and that is the figure the bound uses.
    cast_time = max(per_batch(phases) - adam_time, per_batch(casts))
    n_updated = sum(t.numel() for group in updated for t in group)
    bounds = {"fp32": products["fp32"] / (products["fp32"] + adam_time),
              "bf16": products["bf16"] / (products["bf16"] + adam_time + cast_time)}
    print_table(
        ["AAE z=10, per batch of 100", "fp32 ms", "bf16 ms"],
        [["matrix products at the ceiling",
          f"{1e3 * products['fp32']:.1f}", f"{1e3 * products['bf16']:.1f}"],
         [f"fused Adam over the {n_updated / 1e6:.1f} M weights the three phases update",
          f"{1e3 * adam_time:.1f}", f"{1e3 * adam_time:.1f}"],
         ["casts: weights each phase reads to bf16, gradients to fp32",
          "0", f"{1e3 * cast_time:.1f}"],
         ["bound: products / total, the best fraction of the ceiling",
          f"{bounds['fp32']:.0%}", f"{bounds['bf16']:.0%}"],
         ["skaae reaches", f"{achieved['fp32'] / ceilings['fp32']:.0%}",
          f"{achieved['bf16'] / ceilings['bf16']:.0%}"]],
    )


def compile_section(args, X, repeats):
    """The tutorial loop with and without ``torch.compile`` of its three networks."""
    rows = []
    for bf16, short in ((False, "fp32"), (True, "bf16")):
        rates, first_epoch_extra = {False: 0.0, True: 0.0}, None
        for _ in range(repeats):  # interleaved, so a change of load hits both alike
            for compile in (False, True):
                first, *steady = tutorial_loop(X, 10, 3, bf16=bf16, compile=compile,
                                               device=args.device)
                rates[compile] = max(rates[compile], len(X) / min(steady))
                if compile and first_epoch_extra is None:
                    first_epoch_extra = first - min(steady)
        rows.append([short, f"{rates[False]:,.0f}", f"{rates[True]:,.0f}",
                     f"{rates[True] / rates[False]:.2f}x", f"{first_epoch_extra:.0f}"])
    print_table(["tutorial loop, z=10", "eager samples/s", "torch.compile samples/s",
                 "compiled / eager", "compilation (s, first epoch's extra time)"], rows)


def inference_section(args, X, y):
    X_big = np.concatenate([X] * max(1, 20000 // len(X)))[:20000]
    aae = make_aae(10, "float32", 1, device=args.device).fit(X)
    semi = make_semi("float32", 1, device=args.device).fit(X, partially_labeled(y, 100))
    rows = []
    for precision, short in (("float32", "fp32"), ("bfloat16", "bf16")):
        for name, model, method in (("AAE z=10", aae, "transform"),
                                    ("SemiSupervisedAAE", semi, "predict")):
            model.set_params(precision=precision)
            function = getattr(model, method)
            function(X_big[:1000])
            rate = best_rate(lambda: function(X_big), len(X_big), args.repeats + 1, args.device)
            rows.append([f"{name}.{method}", short, f"{rate:,.0f}"])
    print_table(["inference (20,000 rows)", "precision", "samples/s"], rows)


def memory_section():
    rows = []
    for precision in ("float32", "bfloat16"):
        n, d, before, after = peak_memory(precision)
        rows.append([f"fit, {n:,} x {d}, 1 epoch", precision, f"{before:,.0f}", f"{after:,.0f}"])
    print_table(["peak memory", "precision", "process before fit (MB)", "peak during fit (MB)"],
                rows)


def gpu_memory_section(X_full, device):
    """Peak GPU memory that ``fit`` allocates, on all rows given, one epoch."""
    rows = []
    for precision in ("float32", "bfloat16"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device) / 2**20
        make_aae(2, precision, 1, device=device).fit(X_full)
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        rows.append([f"fit, {len(X_full):,} x {X_full.shape[1]}, 1 epoch", precision,
                     f"{before:,.0f}", f"{peak:,.0f}"])
    print_table(["peak GPU memory", "precision", "allocated before fit (MB)",
                 "peak during fit (MB)"], rows)


def quality_section(args, X, y, X_test, y_test):
    rows = []
    y_semi = partially_labeled(y, 10)
    for seed in (0, 1):
        for precision in ("float32", "bfloat16"):
            aae = make_aae(10, precision, args.quality_epochs, seed, args.device).fit(X)
            knn = KNeighborsClassifier(5).fit(aae.transform(X), y)
            knn_error = 100 * (1 - knn.score(aae.transform(X_test), y_test))
            semi = make_semi(precision, args.quality_epochs, seed, args.device).fit(X, y_semi)
            semi_error = 100 * (1 - semi.score(X_test, y_test))
            rows.append([str(seed), precision, f"{-aae.score(X_test):.4f}", f"{knn_error:.2f}",
                         f"{semi_error:.2f}"])
    print_table(["seed", "precision", "AAE z=10 held-out BCE", "5-NN error on AAE code %",
                 "SemiSupervisedAAE error %, 10 labels/class"], rows)


PROFILE_GROUPS = (
    ("matrix products", ("aten::mm", "aten::addmm", "aten::bmm", "aten::_weight")),
    ("optimizer (fused Adam)", ("aten::_fused_adam", "Optimizer.", "aten::_foreach")),
    ("precision casts", ("aten::copy_", "aten::_to_copy", "aten::to")),
)


def profile_section(X):
    """Where one epoch of skaae's training spends its time, by kind of operation."""
    from torch.profiler import ProfilerActivity, profile

    rows = []
    for precision, short in (("float32", "fp32"), ("bfloat16", "bf16")):
        model = make_aae(2, precision, 1).fit(X)  # warm-up: kernels picked, memory cached
        model.set_params(warm_start=True)
        with profile(activities=[ProfilerActivity.CPU]) as profiler:
            model.fit(X)
        shares = dict.fromkeys([name for name, _ in PROFILE_GROUPS] + ["everything else"], 0.0)
        events = profiler.key_averages()
        total = sum(event.self_cpu_time_total for event in events)
        for event in events:
            group = next((name for name, prefixes in PROFILE_GROUPS
                          if event.key.startswith(prefixes)), "everything else")
            shares[group] += event.self_cpu_time_total / total
        rows.append([short] + [f"{100 * share:.0f}%" for share in shares.values()])
    print_table(["AAE z=2, self CPU time"] + list(shares), rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quality-epochs", type=int, default=10)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-speed", action="store_true",
                        help="only the quality comparison (it does not need an idle machine)")
    parser.add_argument("--try-compile", action="store_true",
                        help="also time the tutorial loop's networks under torch.compile")
    parser.add_argument("--profile", action="store_true",
                        help="also print where skaae's training time goes (torch.profiler)")
    parser.add_argument("--device", default="cpu",
                        help="where both the tutorial loop and skaae train, e.g. cuda "
                             "(default cpu); the bound, profile and CPU memory sections are "
                             "CPU-only")
    parser.add_argument("--fashion-directory", default=None,
                        help="folder of the Fashion-MNIST IDX files (default: skaae's default)")
    args = parser.parse_args()
    on_cpu = torch.device(args.device).type == "cpu"
    if not on_cpu and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: PyTorch sees no CUDA GPU here.")
    X, y, X_test, y_test, source = load_rows(args.n_samples, directory=args.fashion_directory)
    print_machine()
    if not on_cpu:
        print(f"device: {torch.cuda.get_device_name(args.device)}, CUDA {torch.version.cuda}")
    print(f"data: {source}, {X.shape[0]:,} x {X.shape[1]} for training; batch {BATCH}; "
          f"{args.epochs} epochs per timing, best of {args.repeats}\n")
    if not args.skip_speed:
        training_section(args, X, y)
        inference_section(args, X, y)
        if args.profile and on_cpu:
            profile_section(X)
        if args.try_compile:
            compile_section(args, X, args.repeats)
    if not (args.skip_memory or args.skip_speed):
        if on_cpu:
            memory_section()
        else:
            gpu_memory_section(load_rows(60000, directory=args.fashion_directory)[0],
                               args.device)
    if not args.skip_quality:
        print(f"quality after {args.quality_epochs} epochs on {len(X):,} rows, "
              f"{len(X_test):,} held-out rows:\n")
        quality_section(args, X, y, X_test, y_test)


if __name__ == "__main__":
    main()
