"""python -m convlearn.demo: the whole study, from training to the report.

Trains (or reuses) several nets that differ only in their seed, runs every
analysis of Li et al. (2016) on their units (correlations, semi-matching and
bipartite matching, mutual information, sparse prediction, spectral
clustering) and writes OUT/index.html, OUT/summary.json and OUT/tables/.

With no arguments: two "small" nets on the embedded synthetic data, a few
minutes on two cores. ``--preset paper --data PATH`` is the full study on
CIFAR-10: four nets of the reference architecture, every conv and fc layer,
all pairs (about 95 minutes of training on two cores, then under 2 of
analysis). Run the same command again after an interruption: training
resumes from the last finished epoch and the analysis from its last step.
"""

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from . import __version__
from .nn.train import TrainConfig
from .progress import Reporter

PRESETS = {
    "small": {
        "arch": "small",
        "nets": 2,
        "layers": ("conv1", "conv2", "conv3", "fc4"),
        # No crop: the synthetic shapes already vary in position, and cutting
        # them off slows learning in a run this short.
        "train": TrainConfig(
            epochs=3, batch_size=64, lr=0.02, schedule="onecycle", crop_pad=0
        ),
        "n_train": 6000,
        "n_test": 2000,
        "n_images": 2000,
        "n_sample_images": 1000,
        "positions": 16,
        "jobs": 1,
        "eval_every": 1,
    },
    "paper": {
        "arch": "paper",
        "nets": 4,
        "layers": ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"),
        # The recipe of the four reference nets in docs/results/nets.
        "train": TrainConfig(epochs=14),
        "n_train": None,
        "n_test": None,
        "n_images": 10000,
        "n_sample_images": 10000,
        "positions": 32,
        "jobs": 2,
        "eval_every": 7,
    },
}


def _parse(argv):
    p = argparse.ArgumentParser(
        prog="python -m convlearn.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="small",
        help="small (default): 2 'small' nets, 3 epochs, 4 layers; paper: 4 reference "
        "nets, 14 epochs, conv1-conv5, fc6, fc7",
    )
    p.add_argument(
        "--data",
        default=None,
        help="CIFAR-10 (cifar-10-batches-py folder or cifar-10-python.tar.gz) or an image "
        "folder with train/<class>/ and test/<class>/; default: the synthetic set",
    )
    p.add_argument(
        "--out",
        default="convlearn-report",
        help="report folder (default ./convlearn-report)",
    )
    p.add_argument(
        "--runs",
        default=None,
        help="folder of the nets' weights and checkpoints, reused when it holds this "
        "preset's finished nets (default OUT/nets)",
    )
    p.add_argument(
        "--nets", type=int, help="how many nets (default: the preset's, 2 or 4)"
    )
    p.add_argument(
        "--epochs", type=int, help="training epochs per net (default: the preset's)"
    )
    p.add_argument(
        "--layers",
        nargs="+",
        help="conv and fc layers to analyse (default: all of them before the classifier)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="the nets get seeds SEED, SEED+1, ...; also seeds the sampling (default 0)",
    )
    p.add_argument(
        "--images",
        type=int,
        help="test images behind the correlations (default: the preset's, 2000 or 10000; "
        "at most the test set)",
    )
    p.add_argument(
        "--no-patches",
        action="store_true",
        help="leave the image-patch figures (pixels of the data set) out of the report",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    for name, low in (("nets", 2), ("epochs", 1), ("images", 2), ("seed", 0)):
        value = getattr(args, name)
        if value is not None and value < low:
            p.error(f"--{name} must be at least {low}, got {value}")
    return args


def _print_headline(summary_path):
    """One line per layer: the mean matched correlations (the paper's Table 1 shape)."""
    from .report import format_number

    summary = json.loads(Path(summary_path).read_text())
    print(
        "mean correlation of matched units (semi-matching / bipartite), unique units:"
    )
    for layer, numbers in summary["layers"].items():
        m = numbers["mean_over_pairs"]
        semi, bipartite = (format_number(m[k], ".2f") for k in ("semi", "bipartite"))
        unique = format_number(m["unique_share_a"], ".0%")
        print(f"  {layer:6s} {semi} / {bipartite}   {unique} unique")


def main(argv=None):
    from .nn.model import build
    from .report import write_report
    from .runs import describe_seeds, load_seeds, open_dataset, train_seeds
    from .study import StudyConfig, analyze, check_layers

    args = _parse(argv)
    preset = PRESETS[args.preset]
    reporter = Reporter(enabled=not args.quiet)
    out = Path(args.out)
    runs = Path(args.runs) if args.runs else out / "nets"
    seeds = list(range(args.seed, args.seed + (args.nets or preset["nets"])))
    train_config = preset["train"]
    if args.epochs:
        train_config = dataclasses.replace(train_config, epochs=args.epochs)
    layers = tuple(args.layers or preset["layers"])
    try:  # before any training: a typo must not cost the training time
        check_layers(build(preset["arch"]), layers, "--layers")
        for flag, folder in (("--out", out), ("--runs", runs)):
            # the folder, or the first of its parents that exists, must be a folder
            existing = next(
                p for p in (folder, *folder.absolute().parents) if p.exists()
            )
            if not existing.is_dir():
                raise ValueError(
                    f"{flag} {folder}: {existing} is a file; it must be a folder "
                    "(or not exist yet)"
                )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    epochs = f"{train_config.epochs} epoch{'s' if train_config.epochs != 1 else ''}"
    print(
        f"convlearn {__version__} study: {len(seeds)} '{preset['arch']}' nets, seeds "
        f"{seeds[0]}..{seeds[-1]}, {epochs} -> {out}"
    )
    try:
        # The preset's image counts size the synthetic set; real data is used whole.
        counts = (
            (preset["n_train"], preset["n_test"]) if args.data is None else (None, None)
        )
        data = open_dataset(args.data, *counts, reporter=reporter)
        if args.data is None:
            print(
                f"data: the synthetic set ({len(data.x_train)} train / {len(data.x_test)} test "
                "images); pass --data PATH for CIFAR-10 or your own image folder, and "
                "--preset paper for the full study"
            )
        train_seeds(
            preset["arch"],
            data,
            seeds,
            train_config,
            runs,
            jobs=preset["jobs"],
            reporter=reporter,
            eval_every=preset["eval_every"],
        )
        nets = list(load_seeds(runs, seeds).values())
        info = describe_seeds(runs, seeds)
        for k, net_info in enumerate(info):
            print(
                f"net {k} (seed {net_info['seed']}): test accuracy {net_info['test_accuracy']:.1%}"
            )
        n_test = len(data.x_test)
        config = StudyConfig(
            layers=layers,
            n_images=min(args.images or preset["n_images"], n_test),
            n_sample_images=min(preset["n_sample_images"], n_test),
            positions=preset["positions"],
            patches=not args.no_patches,
            seed=args.seed,
        )
        analyze(nets, data.x_test, config, out / "analysis", info, reporter)
        index = write_report(
            out / "analysis", out, patches=not args.no_patches, reporter=reporter
        )
    except (ValueError, TypeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\ninterrupted: run the same command again to resume where it stopped",
            file=sys.stderr,
        )
        return 130
    _print_headline(index.parent / "summary.json")
    print(f"done in {time.perf_counter() - t0:.0f}s; the report: {index.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
