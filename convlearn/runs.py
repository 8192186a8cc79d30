"""Several nets that differ only in their seed: the paper's Net1..Net4, trained into a folder.

A run folder holds, per seed s::

    net-s.npz            the trained weights and normalisation (convlearn.nn.model.load)
    net-s.history.json   per-epoch loss, accuracy and seconds, with the config
    net-s.ckpt.npz       the last finished epoch, while training is under way

Training a seed whose weights and full history are already there is
skipped, and a seed with a checkpoint resumes from it, so the same command
run again after an interruption picks up where it stopped.
"""

import json
import multiprocessing
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import __version__
from ._files import array_digest, write_json
from .nn.model import N_CLASSES, build, load
from .nn.train import TrainConfig, train
from .progress import Reporter, silent

__all__ = [
    "channel_stats",
    "open_dataset",
    "train_seeds",
    "load_seeds",
    "data_digest",
    "describe_seeds",
    "net_paths",
]


def channel_stats(images, chunk=5000):
    """Per-channel mean and std of pixels/255 over uint8 images (N, 3, H, W).

    Accumulated in float64 over chunks, so 50,000 images never become one
    1.2 GB float array.
    """
    total = np.zeros(3)
    total_sq = np.zeros(3)
    for start in range(0, len(images), chunk):
        part = images[start : start + chunk].astype(np.float64) / 255.0
        total += part.sum(axis=(0, 2, 3))
        total_sq += np.square(part).sum(axis=(0, 2, 3))
    n = len(images) * images.shape[2] * images.shape[3]
    mean = total / n
    return mean, np.sqrt(np.maximum(total_sq / n - mean**2, 0.0))


def open_dataset(path=None, n_train=None, n_test=None, seed=0, reporter=None):
    """The data set at ``path``, or the synthetic one when path is None.

    ``path`` may be an extracted cifar-10-batches-py folder, the
    cifar-10-python.tar.gz archive, or an image folder (root/train/<class>/*,
    root/test/<class>/*). n_train / n_test (synthetic: required) keep the
    first images of each split, for quick runs.
    """
    from . import datasets

    if path is None:
        data = datasets.synthetic(n_train or 10000, n_test or 2000, seed=seed)
    else:
        path = Path(path)
        if not path.exists():
            raise ValueError(f"data path {path} does not exist")
        cifar_files = (
            "cifar-10-batches-py",
            "data_batch_1",
            "test_batch",
            "batches.meta",
        )
        if path.is_file() or any((path / name).exists() for name in cifar_files):
            data = datasets.load_cifar10(path)
        else:
            data = datasets.load_image_folder(path, reporter=reporter)
    if n_train is not None or n_test is not None:
        data = data.subset(n_train, n_test)
    return data


def data_digest(data):
    """The digest a run records of its data set (all four arrays)."""
    return array_digest(data.x_train, data.y_train, data.x_test, data.y_test)


def net_paths(out, seed):
    """(weights, history, checkpoint) paths of one seed in a run folder."""
    out = Path(out)
    return (
        out / f"net-{seed}.npz",
        out / f"net-{seed}.history.json",
        out / f"net-{seed}.ckpt.npz",
    )


def _finished(weights, history_path, arch, config, data):
    """True when the seed's weights and full history of this very run exist.

    Raises when the folder holds a finished net of another run (another
    architecture, config or data set), rather than reuse it or overwrite it.
    """
    if not (weights.exists() and history_path.exists()):
        return False
    try:
        record = json.loads(history_path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(
            f"{history_path}: unreadable history ({e}); delete it to train this seed again"
        ) from e
    if not isinstance(record, dict):
        raise ValueError(
            f"{history_path}: not a convlearn history (a JSON object); delete it to train this seed again"
        )
    wanted = {"arch": arch, "config": config.to_dict(), "data": data}
    found = {k: record.get(k) for k in wanted}
    if found != wanted:
        raise ValueError(
            f"{weights} was trained by another run ({found}), not this one ({wanted}); "
            "choose another output folder or delete that net's files"
        )
    if len(record.get("history", [])) != config.epochs:
        return False
    load(weights)  # raises, naming the file, when the weights are damaged
    return True


def _train_one(arch, seed, data, config, out, reporter, eval_every=1):
    weights, history_path, ckpt = net_paths(out, seed)
    digest = data_digest(data)
    if _finished(weights, history_path, arch, config, digest):
        reporter.info(f"seed {seed}: already trained ({weights})")
        return json.loads(history_path.read_text())["history"]
    net = build(arch, seed=seed)
    net.set_normalization(*channel_stats(data.x_train))
    reporter.info(
        f"seed {seed}: training {arch} for {config.epochs} epochs on {len(data.x_train)} images"
    )
    history = train(
        net,
        data.x_train,
        data.y_train,
        config,
        test=(data.x_test, data.y_test),
        reporter=reporter,
        checkpoint=ckpt,
        eval_every=eval_every,
    )
    net.save(weights)
    write_json(
        history_path,
        {
            "arch": arch,
            "seed": seed,
            "config": config.to_dict(),
            "data": digest,
            "version": __version__,
            "history": history,
        },
    )
    ckpt.unlink(missing_ok=True)
    return history


def _train_one_in_child(args):
    """Entry point of a worker process: a reporter of its own that names the seed."""
    arch, seed, data, config, out, quiet, eval_every = args
    return _train_one(
        arch,
        seed,
        data,
        config,
        out,
        _SeedReporter(seed, enabled=not quiet),
        eval_every,
    )


class _SeedReporter(Reporter):
    """Info lines prefixed with the seed; no overwriting status lines (processes share stderr)."""

    def __init__(self, seed, enabled):
        super().__init__(enabled=enabled)
        self.seed = seed

    def info(self, message):
        super().info(
            message if message.startswith("seed ") else f"seed {self.seed}: {message}"
        )

    def status(self, message):
        pass

    def end_status(self):
        pass


def train_seeds(
    arch,
    data,
    seeds,
    config=TrainConfig(),
    out="runs",
    vary_data_order=False,
    jobs=1,
    reporter=None,
    eval_every=1,
):
    """Train one net per seed into the folder ``out``; returns {seed: history}.

    Parameters
    ----------
    arch : str
        An architecture of `convlearn.nn.model.architectures()`.
    data : Dataset
    seeds : list of int
        One net each; the seed drives its initialisation and dropout.
    config : TrainConfig
        Shared by every net. By default every net sees the same batches in
        the same order; ``vary_data_order=True`` gives the net of seed s the
        data seed ``config.data_seed + s`` instead.
    jobs : int
        Nets trained at once, each in a process of its own with
        (cores // jobs) BLAS threads.
    eval_every : int
        Evaluate on the test split every this many epochs (and after the last).
    """
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds) or not seeds or min(seeds) < 0:
        raise ValueError(
            f"seeds must be distinct non-negative integers, at least one, got {seeds}"
        )
    if int(jobs) < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if data.n_classes != N_CLASSES:
        raise ValueError(
            f"the nets have {N_CLASSES} outputs, but the data has {data.n_classes} classes: {data.classes}"
        )
    if Path(out).exists() and not Path(out).is_dir():
        raise ValueError(f"the output folder {out} is a file")
    Path(out).mkdir(parents=True, exist_ok=True)
    configs = {
        s: replace(config, data_seed=config.data_seed + s)
        if vary_data_order
        else config
        for s in seeds
    }
    if jobs <= 1 or len(seeds) == 1:
        reporter = silent(reporter)
        return {
            s: _train_one(arch, s, data, configs[s], out, reporter, eval_every)
            for s in seeds
        }
    quiet = reporter is None or not reporter.enabled
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    saved = {
        k: os.environ.get(k)
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    os.environ.update(
        {k: threads for k in saved}
    )  # children read these when numpy loads
    try:
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            work = [(arch, s, data, configs[s], out, quiet, eval_every) for s in seeds]
            return dict(zip(seeds, pool.map(_train_one_in_child, work, chunksize=1)))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_seeds(out, seeds):
    """{seed: Net} of a finished run folder."""
    return {s: load(net_paths(out, s)[0]) for s in seeds}


def describe_seeds(out, seeds):
    """[{seed, epochs, test_accuracy, data}] of a finished run folder, from its histories.

    data is the digest of the data set the net was trained on (``data_digest``).
    """
    info = []
    for s in seeds:
        path = net_paths(out, s)[1]
        try:
            record = json.loads(path.read_text())
            history = record["history"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}: no readable training history ({e})") from e
        tested = [h for h in history if "test_accuracy" in h]
        info.append(
            {
                "seed": int(s),
                "epochs": len(history),
                "test_accuracy": tested[-1]["test_accuracy"] if tested else None,
                "data": record.get("data"),
            }
        )
    return info
