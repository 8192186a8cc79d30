"""Minibatch SGD training and evaluation of a `Net` on uint8 images, with checkpoints.

The loop, per step: draw a batch, augment it (random crop after zero
padding, horizontal flip), preprocess it with the net's stored
normalisation, forward with dropout, mean softmax cross-entropy, backward,
and one SGD step at the learning rate the schedule gives for the current
fractional epoch. Each epoch ends with an evaluation on the test images
when they are given, and with a checkpoint when a path is given.

A checkpoint holds everything the rest of the run depends on: weights,
momentum velocities, the state of every random generator (batch order,
augmentation, each dropout layer), the history and the config. So a run
that is killed and started again with the same arguments resumes after its
last finished epoch and ends with the same weights, bit for bit, as a run
that was never interrupted. Checkpoints are written to a temporary file and
renamed, so a kill never leaves a half-written one.
"""

import json
import math
import os
import time
import zipfile
from dataclasses import asdict, dataclass

import numpy as np

from .. import __version__, _checks
from .._files import array_digest, atomic_write
from ..progress import silent
from .functional import softmax_cross_entropy
from .layers import Dropout
from .optim import SCHEDULES, SGD, make_schedule

__all__ = ["TrainConfig", "train", "evaluate", "minibatches", "augment"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run besides the net's own seed.

    ``lr`` is the peak learning rate of ``schedule`` (one of "constant",
    "step", "cosine", "onecycle"); weight decay enters the gradient (L2 on
    the loss, PyTorch's SGD form). ``data_seed`` drives the batch order and
    the augmentation, so nets built with different seeds see the same
    batches in the same order (the paper's setting) unless it differs too.
    ``crop_pad`` is the zero padding before the random 32x32 crop (0: no
    crop); ``flip`` mirrors half the images left-right.
    """

    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.05
    schedule: str = "onecycle"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    data_seed: int = 0
    crop_pad: int = 4
    flip: bool = True

    def __post_init__(self):
        _checks.check_positive_int("epochs", self.epochs)
        _checks.check_positive_int("batch_size", self.batch_size)
        _checks.check_positive_int("crop_pad", self.crop_pad, minimum=0)
        _checks.check_positive_int("data_seed", self.data_seed, minimum=0)
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {SCHEDULES}, got {self.schedule!r}"
            )
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")

    def to_dict(self):
        return asdict(self)


def minibatches(n, batch_size, rng):
    """Index arrays of one shuffled pass over n samples; the last may be short."""
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def augment(images, rng, crop_pad=4, flip=True):
    """Random crops of the zero-padded images, and random left-right flips.

    images : (N, 3, H, W) uint8. Each image gets its own offset in
    [0, 2*crop_pad] per axis and a coin for the flip, drawn from ``rng``.
    Returns a new (N, 3, H, W) uint8 array.
    """
    N, C, H, W = images.shape
    out = images
    if crop_pad:
        padded = np.pad(
            images, ((0, 0), (0, 0), (crop_pad, crop_pad), (crop_pad, crop_pad))
        )
        dy, dx = rng.integers(0, 2 * crop_pad + 1, size=(2, N))
        rows = dy[:, None] + np.arange(H)  # (N, H): the rows each crop takes
        cols = dx[:, None] + np.arange(W)  # (N, W)
        n = np.arange(N)[:, None, None, None]
        c = np.arange(C)[None, :, None, None]
        out = padded[
            n, c, rows[:, None, :, None], cols[:, None, None, :]
        ]  # (N, C, H, W)
    if flip:
        mirrored = rng.random(N) < 0.5
        out = out.copy() if out is images else out
        out[mirrored] = out[mirrored, :, :, ::-1]
    return out


def evaluate(net, images, labels, batch_size=500):
    """(mean loss, accuracy) of net on uint8 images (N, 3, 32, 32), no dropout."""
    labels = _checks.check_labels("labels", labels, len(images), 10)
    if len(images) == 0:
        raise ValueError("images must hold at least one image")
    total_loss, correct = 0.0, 0
    for start in range(0, len(images), batch_size):
        x = net.preprocess(images[start : start + batch_size])
        y = labels[start : start + batch_size]
        logits = net.forward(x)
        loss, _ = softmax_cross_entropy(logits, y)
        total_loss += loss * len(y)
        correct += int((logits.argmax(axis=1) == y).sum())
    return total_loss / len(images), correct / len(images)


# ---------------------------------------------------------------------------
# checkpoints


def _generators(net, data_rng):
    """Every Generator whose state the rest of the run depends on, by name."""
    gens = {"data": data_rng}
    gens.update(
        {f"dropout/{l.name}": l.rng for l in net.layers if isinstance(l, Dropout)}
    )
    return gens


def _save_checkpoint(path, net, opt, data_rng, history, config, data):
    meta = {
        "version": __version__,
        "arch": net.arch,
        "config": config.to_dict(),
        "data": data,
        "epochs_done": len(history),
        "history": history,
        "generators": {
            k: g.bit_generator.state for k, g in _generators(net, data_rng).items()
        },
        "mean": net.mean.tolist(),
        "std": net.std.tolist(),
    }
    arrays = {f"param/{k}": v for k, v in net.params().items()}
    arrays.update(opt.state_dict())
    arrays["meta.json"] = np.array(json.dumps(meta))
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def _load_checkpoint(path, net, opt, data_rng, config, data):
    """Restore a checkpoint into net, opt and data_rng; returns its history."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(str(arrays.pop("meta.json")))
    except (
        OSError,
        ValueError,
        KeyError,
        zipfile.BadZipFile,
        EOFError,
        AttributeError,
    ) as e:
        raise ValueError(
            f"{path}: not a readable convlearn checkpoint (damaged or not an .npz: "
            f"{type(e).__name__}); delete it to start afresh"
        ) from e
    if (
        meta["arch"] != net.arch
        or meta["config"] != config.to_dict()
        or meta.get("data") != data
    ):
        raise ValueError(
            f"{path}: this checkpoint belongs to another run (arch {meta['arch']!r}, config "
            f"{meta['config']}, data {meta.get('data')}); this run is arch {net.arch!r}, config "
            f"{config.to_dict()}, data {data}. Use another checkpoint path, or delete it to start afresh"
        )
    params = net.params()
    for key, value in params.items():
        stored = arrays.get(f"param/{key}")
        if stored is None or stored.shape != value.shape:
            raise ValueError(
                f"{path}: parameter {key} is missing or has the wrong shape"
            )
        value[...] = stored
    opt.load_state_dict({k: v for k, v in arrays.items() if k.startswith("velocity/")})
    for name, gen in _generators(net, data_rng).items():
        gen.bit_generator.state = meta["generators"][name]
    net.set_normalization(meta["mean"], meta["std"])
    return meta["history"]


# ---------------------------------------------------------------------------
# the loop


def train(
    net,
    images,
    labels,
    config=TrainConfig(),
    test=None,
    reporter=None,
    checkpoint=None,
    eval_every=1,
):
    """Train ``net`` in place; returns the per-epoch history (a list of dicts).

    Parameters
    ----------
    net : Net
        Its normalisation (``net.set_normalization``) should already hold
        the training set's per-channel statistics.
    images : ndarray of shape (N, 3, 32, 32), uint8
    labels : ndarray of shape (N,), integers in [0, 10)
    config : TrainConfig
    test : (images, labels), optional
        Evaluated after every ``eval_every``-th epoch and after the last.
    reporter : convlearn.progress.Reporter, optional
        Progress lines with the rate and ETA; silent when None.
    checkpoint : path, optional
        An .npz file rewritten after every epoch. If it exists when the run
        starts, the run resumes from it (and refuses one made by a run with
        another architecture or config).

    Returns
    -------
    history : list of dict
        Per epoch: epoch, train_loss (mean over the epoch's steps),
        train_accuracy (on the augmented batches as seen, dropout on),
        test_loss and test_accuracy (in the epochs evaluated), lr (at the
        epoch's last step) and seconds.

    Raises
    ------
    FloatingPointError
        When the logits stop being finite; the message names the epoch and
        step, and the last checkpoint is the last good epoch.
    """
    labels = _checks.check_labels("labels", labels, len(images), 10)
    if len(images) == 0:
        raise ValueError("images must hold at least one training image")
    _checks.check_positive_int("eval_every", eval_every)
    reporter = silent(reporter)
    data_rng = np.random.default_rng(config.data_seed)
    opt = SGD(momentum=config.momentum, weight_decay=config.weight_decay)
    schedule = make_schedule(config.schedule, config.lr, config.epochs)
    history = []
    data = array_digest(images, labels) if checkpoint is not None else None
    if checkpoint is not None and os.path.exists(checkpoint):
        history = _load_checkpoint(checkpoint, net, opt, data_rng, config, data)
        reporter.info(f"resuming from {checkpoint} after epoch {len(history)}")
    params, grads = net.params(), net.grads()
    for epoch in range(len(history), config.epochs):
        t0 = time.perf_counter()
        batches = minibatches(len(images), config.batch_size, data_rng)
        loss_sum, correct, seen = 0.0, 0, 0
        for step, idx in enumerate(batches):
            batch = augment(images[idx], data_rng, config.crop_pad, config.flip)
            y = labels[idx]
            logits = net.forward(net.preprocess(batch), train=True)
            lr = schedule(epoch + step / len(batches))
            if not np.all(np.isfinite(logits)):
                kept = (
                    f"; the checkpoint holds epoch {epoch}"
                    if checkpoint is not None and epoch
                    else ""
                )
                raise FloatingPointError(
                    f"training diverged: non-finite logits at epoch {epoch + 1}, step {step + 1} "
                    f"(lr {lr:.3g}){kept}. Try a smaller lr"
                )
            loss, dlogits = softmax_cross_entropy(logits, y)
            net.backward(dlogits)
            opt.step(params, grads, lr)
            loss_sum += loss * len(y)
            correct += int((logits.argmax(axis=1) == y).sum())
            seen += len(y)
            rate = seen / (time.perf_counter() - t0)
            reporter.status(
                f"epoch {epoch + 1}/{config.epochs}  step {step + 1}/{len(batches)}  "
                f"loss {loss_sum / seen:.3f}  {rate:.0f} img/s  ETA {(len(images) - seen) / rate:.0f}s "
            )
        reporter.end_status()
        record = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / seen,
            "train_accuracy": correct / seen,
            "lr": lr,
        }
        if test is not None and (
            (epoch + 1) % eval_every == 0 or epoch + 1 == config.epochs
        ):
            record["test_loss"], record["test_accuracy"] = evaluate(net, *test)
        record["seconds"] = time.perf_counter() - t0
        history.append(record)
        if checkpoint is not None:
            _save_checkpoint(checkpoint, net, opt, data_rng, history, config, data)
        reporter.info(
            f"epoch {record['epoch']}: train loss {record['train_loss']:.3f}, "
            f"train acc {record['train_accuracy']:.3f}"
            + (
                f", test acc {record['test_accuracy']:.3f}"
                if "test_accuracy" in record
                else ""
            )
            + f", {record['seconds']:.1f}s"
        )
    return history
