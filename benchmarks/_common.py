"""What the quality benchmarks share: command-line options, data splits, the
machine description, timed fits that note convergence warnings, and the
markdown table with the AAE-to-best-peer ratio.

Not a benchmark itself; ``bench_semi_supervised.py`` and ``bench_clustering.py``
import it (run them from any folder: Python puts this folder on the path).
"""

import ast
import os
import platform
import re
import subprocess
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

DIGITS_TEST_FRACTION = 0.3
FASHION_TRAIN_SIZE = 60000
FASHION_TEST_SIZE = 10000


def add_common_arguments(parser, *, default_aae_components):
    """Options every quality benchmark takes: the data's and the AAE's."""
    add_data_arguments(parser)
    parser.add_argument("--aae-epochs", type=int, default=50, help="max_epochs of the AAE")
    parser.add_argument("--aae-components", type=int, default=default_aae_components,
                        help=f"n_components of the AAE (default {default_aae_components})")
    parser.add_argument("--aae-param", action="append", default=[], metavar="NAME=VALUE",
                        help="another parameter of the AAE, for example "
                             "--aae-param learning_rate_init=2e-3 (repeatable)")


def add_data_arguments(parser):
    """The options of :func:`load_split`: which data, how much of it, which seeds."""
    parser.add_argument("--dataset", choices=["digits", "fashion"], default="digits",
                        help="digits: sklearn's 8x8 digits, a stratified 30%% test split; "
                             "fashion: Fashion-MNIST from local files")
    parser.add_argument("--n-train", type=int, default=20000,
                        help="fashion only: stratified training subset (default 20000 of 60000)")
    parser.add_argument("--n-test", type=int, default=10000,
                        help="fashion only: stratified subset of the official test set "
                             "(default all 10000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="one run per seed: split, labeled subset and model seeds "
                             "(default: 0)")
    parser.add_argument("--classes", type=int, nargs="+", default=None,
                        help="fashion only: keep these classes (labels 0-9) and no others, "
                             "before the subsets are drawn (default: all ten)")
    parser.add_argument("--fashion-directory", default=None,
                        help="folder of the Fashion-MNIST IDX files (default: skaae's default)")


def aae_parameters(args):
    """The ``--aae-param NAME=VALUE`` options as keyword arguments (values as Python literals)."""
    parameters = {}
    for item in args.aae_param:
        name, separator, value = item.partition("=")
        if not separator:
            raise SystemExit(f"--aae-param needs NAME=VALUE, got {item!r}")
        parameters[name] = _literal(value)
    return parameters


def _literal(value):
    """``value`` as a Python literal, or as the bare string it is (a prior's name, say)."""
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def parse_variant(text):
    """``"name=value,name=value"`` (values as Python literals) as keyword arguments.

    A comma starts a new setting only where ``name=`` follows it, so tuple
    values such as ``hidden_layer_sizes=(1000, 1000)`` stay whole.
    """
    if text == "defaults":
        return {}
    parameters = {}
    for item in re.split(r",(?=\s*[A-Za-z_]\w*\s*=)", text):
        name, separator, value = item.partition("=")
        if not separator:
            raise SystemExit(f"--variant needs NAME=VALUE[,NAME=VALUE...], got {text!r}")
        parameters[name.strip()] = _literal(value)
    return parameters


def describe_aae(args, **settings):
    """The AAE's settings as ``name=value, ...``: n_components, ``settings``, then ``--aae-param``."""
    settings = {"n_components": args.aae_components, **settings, **aae_parameters(args)}
    return ", ".join(f"{name}={value!r}" for name, value in settings.items())


def cpu_description():
    """CPU model from ``lscpu``, or the platform's processor name."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                    if line.startswith("Model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def bf16_units():
    """The CPU's bf16 matrix units, as ``lscpu`` flags: AMX, AVX-512 BF16, or none."""
    try:
        flags = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown bf16 units"
    found = [flag for flag in ("amx_bf16", "avx512_bf16") if flag in flags]
    return ", ".join(found) or "no bf16 units"


def print_machine():
    print(f"CPU: {cpu_description()} ({bf16_units()}), {os.cpu_count()} logical CPUs; torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads; Python "
          f"{platform.python_version()}")


def load_split(args, seed):
    """``X_train, y_train, X_test, y_test`` for ``args.dataset``, drawn with ``seed``."""
    if args.dataset == "digits":
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X / 16.0, y, test_size=DIGITS_TEST_FRACTION, stratify=y, random_state=seed
        )
        return X_train, y_train, X_test, y_test
    from skaae.datasets import load_fashion_mnist

    folder = {} if args.fashion_directory is None else {"directory": args.fashion_directory}
    X_train, y_train = load_fashion_mnist(**folder, kind="train")
    X_test, y_test = load_fashion_mnist(**folder, kind="test")
    if getattr(args, "classes", None):
        kept_train, kept_test = np.isin(y_train, args.classes), np.isin(y_test, args.classes)
        X_train, y_train = X_train[kept_train], y_train[kept_train]
        X_test, y_test = X_test[kept_test], y_test[kept_test]
    X_train, y_train = _stratified_subset(X_train, y_train, args.n_train, seed, "--n-train")
    # With --classes fewer test images remain than the default --n-test: all of them.
    X_test, y_test = _stratified_subset(X_test, y_test, min(args.n_test, len(X_test)), seed,
                                        "--n-test")
    return X_train, y_train, X_test, y_test


def _stratified_subset(X, y, size, seed, option):
    if not 10 <= size <= len(X):
        raise SystemExit(f"{option} must be between 10 and {len(X)}, got {size}.")
    if size == len(X):
        return X, y
    X_subset, _, y_subset, _ = train_test_split(
        X, y, train_size=size, stratify=y, random_state=seed
    )
    return X_subset, y_subset


def describe_data(args, X_train, X_test):
    name = "digits (load_digits / 16)" if args.dataset == "digits" else "Fashion-MNIST"
    if args.dataset == "fashion" and getattr(args, "classes", None):
        name += f" (classes {' '.join(map(str, args.classes))} only)"
    return f"{name}: {len(X_train)} training and {len(X_test)} test points, " \
           f"{X_train.shape[1]} features"


def import_aae(class_name):
    """The skaae estimator ``class_name``, or None with the reason printed."""
    try:
        import skaae

        return getattr(skaae, class_name)
    except (ImportError, AttributeError) as error:
        print(f"skaae.{class_name} not available ({error}); its row is left empty.",
              file=sys.stderr)
        return None


@dataclass
class Cell:
    """Results of one method in one setting, over the seeds."""

    errors: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    warned: bool = False
    note: str = ""

    def text(self):
        if self.note:
            return self.note, ""
        mean = 100 * np.mean(self.errors)
        error = f"{mean:.2f}" if len(self.errors) == 1 else \
            f"{mean:.2f} ± {100 * np.std(self.errors):.2f}"
        return error + ("*" if self.warned else ""), f"{np.mean(self.seconds):.2f}"


def timed(cell, function):
    """Run ``function()``, add its duration to ``cell``; return its result.

    A ``ConvergenceWarning`` marks the cell (printed as ``*``) instead of
    cluttering the output; other warnings pass through.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        result = function()
        cell.seconds.append(time.perf_counter() - start)
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            cell.warned = True
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return result


def run_aae_safely(cell, function):
    """Run an AAE measurement; on an error, print the traceback and mark the cell."""
    try:
        function()
    except Exception as error:  # a benchmark reports the failure and keeps the peers' rows
        traceback.print_exc()
        cell.note = f"failed ({type(error).__name__})"


def mean_std(values, digits):
    """``values`` as ``mean ± std`` over the seeds, or the one value, with ``digits`` decimals."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def print_aligned(title, header, rows):
    """Print ``title``, then a markdown table: first column left-aligned, the others right."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("| " + " | ".join("-" * w if i == 0 else "-" * (w - 1) + ":"
                            for i, w in enumerate(widths)) + " |")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                for i, (c, w) in enumerate(zip(row, widths))) + " |")


def print_table(title, setting_names, peer_rows, aae_row, seconds_label="fit s",
                other_rows=None):
    """Markdown table: one row per method, an error and a time column per setting.

    ``peer_rows``, ``other_rows`` and ``aae_row`` map a method's name to a list
    of cells, one per setting. The last row is the AAE's mean error over the
    best peer's; ``other_rows`` (a reference recipe, earlier epochs) are printed
    between the peers and the AAE but are not peers.
    """
    other_rows = other_rows or {}
    header = ["method"]
    for setting in setting_names:
        header += [f"{setting}: error %", seconds_label]
    rows = []
    for name, cells in [*peer_rows.items(), *other_rows.items(), *aae_row.items()]:
        row = [name]
        for cell in cells:
            row += list(cell.text())
        rows.append(row)
    (aae_name, aae_cells), = aae_row.items()
    ratio_row = [f"{aae_name} / best peer"]
    for index, aae_cell in enumerate(aae_cells):
        peers = {name: np.mean(cells[index].errors) for name, cells in peer_rows.items()
                 if cells[index].errors and not cells[index].note}
        if aae_cell.note or not aae_cell.errors or not peers:
            ratio_row += ["n/a", ""]
            continue
        best_name = min(peers, key=peers.get)
        best = peers[best_name]
        ratio = np.mean(aae_cell.errors) / best if best > 0 else float("inf")
        ratio_row += [f"{ratio:.2f}x (vs {best_name})", ""]
    rows.append(ratio_row)

    print_aligned(title, header, rows)
    every_row = [*peer_rows.values(), *other_rows.values(), *aae_row.values()]
    if any(cell.warned for cells in every_row for cell in cells):
        print("\n* a ConvergenceWarning was raised in at least one run of this cell.")
