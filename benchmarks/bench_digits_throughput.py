"""Training throughput on digits: skaae against the hand-written tutorial loop, in one run.

The reference is the classic three-phase AAE loop users write by hand (a
DataLoader over a TensorDataset, a fresh encoder pass in every phase, sigmoid
discriminator). Both train the same networks (64-1000-1000-2 encoder, mirrored
decoder, 2-1000-1000-1 discriminator) with batch 100 on the same data.

Usage: ``python benchmarks/bench_digits_throughput.py [--epochs 5] [--repeats 3]``.
Prints samples/s and the ratio to the reference; absolute numbers vary between
machines, ratios measured in the same run are what to compare.
"""

import argparse
import platform
import subprocess
import time

import torch
from sklearn.datasets import load_digits
from torch import nn

from skaae import AdversarialAutoencoder

HIDDEN = 1000
BATCH = 100


def tutorial_loop(X, n_components, epochs, seed=0):
    """The hand-written loop: three phases per batch, each with its own encoder pass."""
    torch.manual_seed(seed)
    n_features = X.shape[1]

    def mlp(n_in, n_out, last=None):
        layers = [nn.Linear(n_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                  nn.Linear(HIDDEN, n_out)]
        return nn.Sequential(*layers, *([last] if last else []))

    encoder, decoder = mlp(n_features, n_components), mlp(n_components, n_features, nn.Sigmoid())
    discriminator = mlp(n_components, 1, nn.Sigmoid())
    opt_decoder = torch.optim.Adam(decoder.parameters(), lr=1e-3)
    opt_encoder = torch.optim.Adam(encoder.parameters(), lr=1e-3)
    opt_generator = torch.optim.Adam(encoder.parameters(), lr=1e-3)
    opt_discriminator = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.as_tensor(X, dtype=torch.float32)),
        batch_size=BATCH, shuffle=True,
    )
    tiny = 1e-8
    for _ in range(epochs):
        for (x,) in loader:
            # Reconstruction.
            opt_encoder.zero_grad(); opt_decoder.zero_grad()
            loss = nn.functional.binary_cross_entropy(decoder(encoder(x)) + tiny, x)
            loss.backward(); opt_encoder.step(); opt_decoder.step()
            # Discriminator.
            encoder.eval()
            z_real = torch.randn(len(x), n_components)
            z_fake = encoder(x)
            d_loss = -torch.mean(torch.log(discriminator(z_real) + tiny)
                                 + torch.log(1 - discriminator(z_fake) + tiny))
            opt_discriminator.zero_grad(); d_loss.backward(); opt_discriminator.step()
            # Generator.
            encoder.train()
            g_loss = -torch.mean(torch.log(discriminator(encoder(x)) + tiny))
            opt_generator.zero_grad(); g_loss.backward(); opt_generator.step()


def skaae_fit(X, n_components, epochs, precision):
    AdversarialAutoencoder(
        n_components=n_components, hidden_layer_sizes=(HIDDEN, HIDDEN),
        discriminator_hidden_layer_sizes=(HIDDEN, HIDDEN), batch_size=BATCH, max_epochs=epochs,
        reconstruction_loss="bce", precision=precision, device="cpu", random_state=0,
    ).fit(X)


def best_rate(function, n_samples, epochs, repeats):
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        rates.append(n_samples * epochs / (time.perf_counter() - start))
    return max(rates)


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                     if line.startswith("Model name"))
        flags = [f for f in ("amx_bf16", "avx512_bf16") if f in out]
        return f"{model} ({', '.join(flags) or 'no bf16 units'})"
    except Exception:  # pragma: no cover - lscpu missing
        return platform.processor() or "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X = load_digits().data / 16.0
    n = len(X)
    print(f"digits {X.shape}, batch {BATCH}, 64-{HIDDEN}-{HIDDEN}-2 MLPs, {args.epochs} epochs, "
          f"best of {args.repeats}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{cpu_name()}")
    runs = [
        ("tutorial loop (fp32)", lambda: tutorial_loop(X, 2, args.epochs)),
        ("skaae float32", lambda: skaae_fit(X, 2, args.epochs, "float32")),
        ("skaae bfloat16", lambda: skaae_fit(X, 2, args.epochs, "bfloat16")),
    ]
    rates = {}
    for name, function in runs:
        rates[name] = best_rate(function, n, args.epochs, args.repeats)
    reference = rates[runs[0][0]]
    print(f"\n| {'training':22s} | {'samples/s':>10s} | {'vs tutorial':>11s} |")
    print(f"| {'-' * 22} | {'-' * 9}: | {'-' * 10}: |")
    for name, rate in rates.items():
        print(f"| {name:22s} | {rate:10,.0f} | {rate / reference:10.2f}x |")


if __name__ == "__main__":
    main()
