"""``python -m convlearn <command>``: the steps of the study, one at a time.

    train      train several nets that differ only in their seed
    analyze    run the study's analyses on trained nets into an analysis folder
    report     draw the figures and write the report of an analysis folder
    download   fetch a data set (same as ``python -m convlearn.datasets download``)

Run ``python -m convlearn <command> --help`` for each command's options.
"""

import argparse
import sys

from .nn.model import architectures
from .nn.optim import SCHEDULES
from .nn.train import TrainConfig
from .progress import Reporter


def _add_train(sub):
    p = sub.add_parser(
        "train",
        help="train nets that differ only in their seed",
        description="Train one net per seed into OUT (resumes after an interruption).",
    )
    p.add_argument(
        "--arch",
        default="paper",
        choices=architectures(),
        help="architecture (default paper)",
    )
    p.add_argument(
        "--data",
        default=None,
        help="cifar-10-batches-py folder, cifar-10-python.tar.gz, or an image folder "
        "(root/train/<class>, root/test/<class>); default: the synthetic set",
    )
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2, 3],
        help="one net per seed (default 0 1 2 3)",
    )
    p.add_argument(
        "--out",
        default="runs",
        help="folder for weights, histories, checkpoints (default ./runs)",
    )
    defaults = TrainConfig()
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--lr", type=float, default=defaults.lr, help="peak learning rate")
    p.add_argument("--schedule", default=defaults.schedule, choices=SCHEDULES)
    p.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    p.add_argument(
        "--data-seed",
        type=int,
        default=defaults.data_seed,
        help="batch order and augmentation",
    )
    p.add_argument(
        "--vary-data-order",
        action="store_true",
        help="give each seed its own batch order",
    )
    p.add_argument("--no-augment", action="store_true", help="no random crops or flips")
    p.add_argument(
        "--n-train", type=int, default=None, help="use only the first N training images"
    )
    p.add_argument(
        "--n-test", type=int, default=None, help="use only the first N test images"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="nets trained at once, in separate processes",
    )
    p.add_argument(
        "--eval-every",
        type=int,
        default=1,
        help="test every N epochs (and after the last)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _train(args):
    from .runs import net_paths, open_dataset, train_seeds

    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        schedule=args.schedule,
        weight_decay=args.weight_decay,
        data_seed=args.data_seed,
        crop_pad=0 if args.no_augment else TrainConfig.crop_pad,
        flip=not args.no_augment,
    )
    for flag in ("n_train", "n_test", "jobs", "eval_every"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ValueError(
                f"--{flag.replace('_', '-')} must be at least 1, got {value}"
            )
    reporter = Reporter(enabled=not args.quiet)
    data = open_dataset(args.data, args.n_train, args.n_test, reporter=reporter)
    if args.data is None:
        reporter.info(
            "data: the synthetic set (pass --data PATH for CIFAR-10 or your own image folder)"
        )
    histories = train_seeds(
        args.arch,
        data,
        args.seeds,
        config,
        args.out,
        args.vary_data_order,
        args.jobs,
        reporter,
        args.eval_every,
    )
    for seed, history in histories.items():
        last = history[-1]
        print(
            f"seed {seed}: test accuracy {last['test_accuracy']:.4f} after {last['epoch']} epochs "
            f"({sum(h['seconds'] for h in history):.0f}s) -> {net_paths(args.out, seed)[0]}"
        )


def _add_analyze(sub):
    import dataclasses
    import types

    from .study import StudyConfig

    d = types.SimpleNamespace(
        **{f.name: f.default for f in dataclasses.fields(StudyConfig)}
    )
    p = sub.add_parser(
        "analyze",
        help="the study's analyses on trained nets",
        description="Correlations, matchings, mutual information, sparse prediction and "
        "spectral clusters of nets trained by 'train', into OUT (resumes after an interruption).",
    )
    p.add_argument(
        "--runs", default="runs", help="folder of the trained nets (default ./runs)"
    )
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2, 3],
        help="nets to compare (default 0 1 2 3)",
    )
    p.add_argument(
        "--data",
        default=None,
        help="the data set the nets were trained on, checked against their histories "
        "(default: the synthetic set)",
    )
    p.add_argument(
        "--n-train",
        type=int,
        default=None,
        help="the first N training images, as given to 'train' (the synthetic set's size)",
    )
    p.add_argument(
        "--n-test",
        type=int,
        default=None,
        help="the first N test images, as given to 'train'",
    )
    p.add_argument(
        "--out", default="analysis", help="analysis folder (default ./analysis)"
    )
    p.add_argument(
        "--layers",
        nargs="+",
        default=None,
        help="layers (default: every conv and fc layer)",
    )
    p.add_argument(
        "--images",
        type=int,
        default=d.n_images,
        help=f"test images behind the correlations (default {d.n_images})",
    )
    p.add_argument(
        "--sample-images",
        type=int,
        default=d.n_sample_images,
        help=f"images for MI and sparse prediction (default {d.n_sample_images})",
    )
    p.add_argument(
        "--positions",
        type=int,
        default=d.positions,
        help=f"random positions per image and conv layer (default {d.positions})",
    )
    p.add_argument(
        "--no-patches", action="store_true", help="do not keep image patches"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the sampling and the clustering (default 0)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _analyze(args):
    from .runs import data_digest, describe_seeds, load_seeds, net_paths, open_dataset
    from .study import StudyConfig, analysable_layers, analyze, check_layers

    if len(set(args.seeds)) != len(args.seeds) or len(args.seeds) < 2:
        raise ValueError(
            f"--seeds must name at least two distinct nets, got {args.seeds}"
        )
    missing = [s for s in args.seeds if not net_paths(args.runs, s)[0].is_file()]
    if missing:
        raise ValueError(
            f"--runs {args.runs} holds no trained net for seeds {missing} (looked for "
            f"{net_paths(args.runs, missing[0])[0]}); train them with 'python -m convlearn "
            "train', or pass the --runs and --seeds of your run"
        )
    reporter = Reporter(enabled=not args.quiet)
    nets = list(load_seeds(args.runs, args.seeds).values())
    info = describe_seeds(args.runs, args.seeds)
    data = open_dataset(args.data, args.n_train, args.n_test, reporter=reporter)
    digest = data_digest(data)
    other = [n["seed"] for n in info if n["data"] not in (None, digest)]
    if other:
        raise ValueError(
            f"the nets of seeds {other} were trained on another data set than this one "
            f"(--data {args.data or 'not given: the synthetic set'}, --n-train "
            f"{args.n_train or 'not given'}, --n-test {args.n_test or 'not given'}): pass "
            "the options they were trained with (the demo's "
            "small preset: no --data, --n-train 6000 --n-test 2000)"
        )
    layers = tuple(args.layers or analysable_layers(nets[0]))
    check_layers(nets[0], layers, "--layers")
    n_test = len(data.x_test)
    config = StudyConfig(
        layers=layers,
        n_images=min(args.images, n_test),
        n_sample_images=min(args.sample_images, n_test),
        positions=args.positions,
        patches=not args.no_patches,
        seed=args.seed,
    )
    path = analyze(
        nets,
        data.x_test,
        config,
        args.out,
        info,
        reporter,
    )
    print(
        f"analysis: {path}; draw it with 'python -m convlearn report --analysis {path}'"
    )


def _add_report(sub):
    p = sub.add_parser(
        "report",
        help="figures, tables and index.html of an analysis folder",
        description="Write OUT/index.html, OUT/summary.json, OUT/tables/ and OUT/figures/.",
    )
    p.add_argument(
        "--analysis", default="analysis", help="analysis folder (default ./analysis)"
    )
    p.add_argument(
        "--out",
        default="convlearn-report",
        help="report folder (default ./convlearn-report)",
    )
    p.add_argument(
        "--no-patches", action="store_true", help="leave out the image patches"
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _report(args):
    from .report import write_report

    index = write_report(
        args.analysis,
        args.out,
        patches=not args.no_patches,
        reporter=Reporter(enabled=not args.quiet),
    )
    print(f"the report: {index.resolve()}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m convlearn",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_analyze(sub)
    _add_report(sub)
    sub.add_parser("download", help="fetch a data set", add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "download":
        from .datasets.__main__ import main as download_main

        return download_main(["download", *rest])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        {"train": _train, "analyze": _analyze, "report": _report}[args.command](args)
    except (ValueError, TypeError, FloatingPointError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\ninterrupted: run the same command again to resume where it stopped",
            file=sys.stderr,
        )
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
