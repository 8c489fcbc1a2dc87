"""The ``rfkernels`` command line: ``rfkernels demo`` and ``rfkernels info``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import numpy as np

from . import _core
from .kernel_ridge import KernelRidge
from .ridge import RandomFeatureRidgeClassifier

__all__ = ["main"]

DEMO_WIDTHS = (16, 64, 256, 1024, 4096)


def demo(args: argparse.Namespace) -> int:
    """Fit random-feature models of growing width on the digits data and report them."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    print(
        f"rfkernels {_core.__version__} demo: handwritten digits (scikit-learn's load_digits), "
        f"{len(X_train)} train / {len(X_test)} test images, 64 pixels, 10 classes."
    )
    print(
        f"Kernel {args.kernel}: random features z(x) with Z Z^T -> K, ridge chosen by exact "
        f"leave-one-out\nfrom one eigendecomposition per fit; SIMD: {_core.simd_isa()}.\n"
    )
    print(
        f"{'width D':>10} {'test accuracy':>14} {'LOO alpha':>10} "
        f"{'train MSE':>10} {'LOO MSE':>9} {'fit (s)':>8}"
    )
    for width in args.widths:
        model = RandomFeatureRidgeClassifier(
            args.kernel, n_components=width, random_state=args.seed
        )
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        best = int(np.argmin(model.cv_results_.mean(axis=1)))
        print(
            f"{width:>10} {model.score(X_test, y_test):>14.4f} {model.alpha_:>10.2e} "
            f"{model.train_errors_[best].mean():>10.4f} {-model.best_score_:>9.4f} "
            f"{seconds:>8.2f}"
        )
    targets = np.where(y_train[:, None] == np.arange(10)[None, :], 1.0, -1.0)
    start = time.perf_counter()
    exact = KernelRidge(args.kernel).fit(X_train, targets)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(np.argmax(exact.predict(X_test), axis=1) == y_test))
    best = int(np.argmin(exact.cv_results_.mean(axis=1)))
    print(
        f"{'infinite':>10} {accuracy:>14.4f} {exact.alpha_:>10.2e} "
        f"{exact.train_errors_[best].mean():>10.4f} {-exact.best_score_:>9.4f} "
        f"{seconds:>8.2f}"
    )
    print(
        "\nWider is better: with the ridge tuned, test accuracy rises with the number of "
        "random features\ntoward the exact kernel's (KernelRidge, the infinite-width "
        "limit). The tuned ridge is small:\nthe best fits nearly interpolate the "
        "training set (train MSE far below LOO MSE)."
    )
    return 0


def info(args: argparse.Namespace) -> int:
    """Print the build and machine facts that affect speed."""
    print(f"rfkernels {_core.__version__}")
    print(f"SIMD instruction set: {_core.simd_isa()}")
    print(f"CPU cores: {os.cpu_count()}; RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS')}")
    print(f"kernels: {', '.join(_core.KERNEL_NAMES)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rfkernels`` command."""
    parser = argparse.ArgumentParser(
        prog="rfkernels",
        description="Fast random-feature kernel methods (Rust core, scikit-learn API).",
    )
    parser.add_argument("--version", action="version", version=_core.__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo",
        help="fit random-feature models of growing width on real data and report them",
        description="Fit RandomFeatureRidgeClassifier (leave-one-out ridge) on "
        "scikit-learn's digits at growing widths, then KernelRidge on the exact kernel, "
        "and print test accuracy, the chosen ridge and the train and LOO errors.",
    )
    demo_parser.add_argument(
        "--kernel", default="rbf", choices=_core.KERNEL_NAMES, help="kernel (default: rbf)"
    )
    demo_parser.add_argument(
        "--widths",
        type=int,
        nargs="+",
        default=list(DEMO_WIDTHS),
        help=f"numbers of random features (default: {' '.join(map(str, DEMO_WIDTHS))})",
    )
    demo_parser.add_argument("--seed", type=int, default=0, help="random_state (default: 0)")
    demo_parser.set_defaults(run=demo)
    info_parser = commands.add_parser("info", help="print the SIMD level and thread settings")
    info_parser.set_defaults(run=info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rfkernels`` command line with ``argv`` (default: ``sys.argv[1:]``)."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
