"""``python -m convlearn.demo``: a short, real run of the engine.

For now the demo trains two "small" nets that differ only in their seed on
the embedded synthetic data set, the paper's setting in miniature, and
prints what each learned. The unit-by-unit comparison of the nets (the
study itself) joins this demo as the analyses land.
"""

import argparse
import sys
import time

import numpy as np

from . import __version__
from .datasets import synthetic
from .nn.model import build
from .nn.train import TrainConfig, evaluate, train
from .progress import Reporter
from .runs import channel_stats


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m convlearn.demo", description=__doc__)
    p.add_argument(
        "--nets", type=int, default=2, help="how many nets (seeds 0, 1, ...); default 2"
    )
    p.add_argument(
        "--epochs", type=int, default=3, help="training epochs per net; default 3"
    )
    p.add_argument(
        "--n-train",
        type=int,
        default=6000,
        help="synthetic training images; default 6000",
    )
    p.add_argument(
        "--n-test", type=int, default=2000, help="synthetic test images; default 2000"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the data set and of the first net"
    )
    p.add_argument(
        "--quiet", action="store_true", help="no progress lines, only the summary"
    )
    args = p.parse_args(argv)
    for name in ("nets", "epochs", "n_train", "n_test", "seed"):
        if getattr(args, name) < (0 if name == "seed" else 1):
            p.error(
                f"--{name.replace('_', '-')} must be at least {0 if name == 'seed' else 1}, got {getattr(args, name)}"
            )
    return args


def main(argv=None):
    args = _parse(argv)
    reporter = Reporter(enabled=not args.quiet)
    print(
        f"convlearn {__version__} demo: {args.nets} 'small' nets, seeds {args.seed}..{args.seed + args.nets - 1}"
    )
    t0 = time.perf_counter()
    data = synthetic(args.n_train, args.n_test, seed=args.seed)
    print(
        f"data: the synthetic set ({len(data.x_train)} train / {len(data.x_test)} test images, "
        f"{len(data.classes)} classes, made in {time.perf_counter() - t0:.1f}s); for real data see "
        "'python -m convlearn train --help'"
    )
    # No crop: the synthetic shapes already vary in position, and cutting them
    # off slows learning in a run this short.
    config = TrainConfig(
        epochs=args.epochs, batch_size=64, lr=0.02, schedule="onecycle", crop_pad=0
    )
    mean, std = channel_stats(data.x_train)
    predictions = []
    for k in range(args.nets):
        net = build("small", seed=args.seed + k)
        net.set_normalization(mean, std)
        first_loss, first_acc = evaluate(net, data.x_test, data.y_test)
        t1 = time.perf_counter()
        history = train(
            net,
            data.x_train,
            data.y_train,
            config,
            test=(data.x_test, data.y_test),
            reporter=reporter,
        )
        seconds = time.perf_counter() - t1
        last = history[-1]
        print(
            f"net {k + 1} (seed {args.seed + k}): test loss {first_loss:.3f} -> {last['test_loss']:.3f}, "
            f"test accuracy {first_acc:.1%} -> {last['test_accuracy']:.1%} "
            f"after {args.epochs} epochs ({seconds:.0f}s with the evaluations)"
        )
        predictions.append(net.predict(data.x_test))
    if len(predictions) > 1:
        agree = np.mean([np.mean(predictions[0] == p) for p in predictions[1:]])
        others = (
            "net 2 agrees"
            if len(predictions) == 2
            else f"nets 2..{len(predictions)} agree (on average)"
        )
        print(
            f"{others} with net 1 on {agree:.1%} of the test predictions (same data, different seeds)"
        )
    print(f"done in {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
