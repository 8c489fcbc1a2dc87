"""The ``rfkernels`` command line: ``rfkernels demo`` and ``rfkernels info``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import numpy as np

from . import _core
from .kernels import kernel_matrix
from .random_features import RandomFeatures

__all__ = ["main"]

DEMO_WIDTHS = (16, 64, 256, 1024, 4096)


def _ridge_accuracy(Z_train, y_train, Z_test, y_test) -> tuple[float, float]:
    """Test accuracy and ridge of a leave-one-out tuned ridge classifier on features."""
    from sklearn.linear_model import RidgeClassifierCV

    model = RidgeClassifierCV(alphas=np.logspace(-6, 2, 17)).fit(Z_train, y_train)
    return float(model.score(Z_test, y_test)), float(model.alpha_)


def _kernel_accuracy(K_train, y_train, K_test, y_test, alpha: float) -> float:
    """Test accuracy of kernel ridge classification (one-vs-all on +-1 targets)."""
    classes = np.unique(y_train)
    targets = np.where(y_train[:, None] == classes[None, :], 1.0, -1.0)
    coef = np.linalg.solve(K_train + alpha * np.eye(len(K_train)), targets)
    predicted = classes[np.argmax(K_test @ coef, axis=1)]
    return float(np.mean(predicted == y_test))


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
        f"Kernel {args.kernel}; random features z(x) with Z Z^T -> K; ridge tuned by "
        f"leave-one-out; SIMD: {_core.simd_isa()}.\n"
    )
    print(f"{'width D':>10} {'test accuracy':>14} {'tuned alpha':>12} {'features (s)':>13}")
    for width in args.widths:
        features = RandomFeatures(args.kernel, n_components=width, random_state=args.seed)
        start = time.perf_counter()
        Z_train = features.fit_transform(X_train)
        Z_test = features.transform(X_test)
        seconds = time.perf_counter() - start
        accuracy, alpha = _ridge_accuracy(Z_train, y_train, Z_test, y_test)
        print(f"{width:>10} {accuracy:>14.4f} {alpha:>12.2e} {seconds:>13.4f}")
    gamma = features.gamma_
    K_train = kernel_matrix(X_train, kernel=args.kernel, gamma=gamma)
    K_test = kernel_matrix(X_test, X_train, kernel=args.kernel, gamma=gamma)
    accuracy = _kernel_accuracy(K_train, y_train, K_test, y_test, alpha)
    print(f"{'infinite':>10} {accuracy:>14.4f} {alpha:>12.2e} {'(exact K)':>13}")
    print(
        "\nWider is better: accuracy rises with the number of random features toward the "
        "exact kernel's\n(the infinite-width limit, solved here at the widest model's ridge)."
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
        description="Fit RandomFeatures + leave-one-out ridge on scikit-learn's digits "
        "at growing widths, then the exact kernel, and print test accuracy.",
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
