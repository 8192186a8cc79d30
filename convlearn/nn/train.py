"""Minibatch SGD training and evaluation of a `Net` on uint8 images.

The loop, per step: preprocess a batch with the net's stored normalisation,
forward with dropout, mean softmax cross-entropy, backward, and one SGD step
at the learning rate the schedule gives for the current (fractional) epoch.
Every epoch ends with an evaluation on the test images when they are given.
"""

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import _checks
from ..progress import silent
from .functional import softmax_cross_entropy
from .optim import SCHEDULES, SGD, make_schedule

__all__ = ["TrainConfig", "train", "evaluate", "minibatches"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run besides the net's own seed.

    ``lr`` is the peak learning rate of ``schedule`` (one of "constant",
    "step", "cosine", "onecycle"); weight decay enters the gradient (L2 on
    the loss, PyTorch's SGD form); ``data_seed`` fixes the order in which
    minibatches are drawn, so nets built with different seeds can still see
    the data in the same order (the paper's setting).
    """

    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.05
    schedule: str = "onecycle"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    data_seed: int = 0

    def __post_init__(self):
        _checks.check_positive_int("epochs", self.epochs)
        _checks.check_positive_int("batch_size", self.batch_size)
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")

    def to_dict(self):
        return asdict(self)


def minibatches(n, batch_size, rng):
    """Index arrays of one shuffled pass over n samples; the last may be short."""
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def evaluate(net, images, labels, batch_size=500):
    """(mean loss, accuracy) of net on uint8 images (N, 3, 32, 32), no dropout."""
    labels = _checks.check_labels("labels", labels, len(images), 10)
    total_loss, correct = 0.0, 0
    for start in range(0, len(images), batch_size):
        x = net.preprocess(images[start : start + batch_size])
        y = labels[start : start + batch_size]
        logits = net.forward(x)
        loss, _ = softmax_cross_entropy(logits, y)
        total_loss += loss * len(y)
        correct += int((logits.argmax(axis=1) == y).sum())
    return total_loss / len(images), correct / len(images)


def train(net, images, labels, config=TrainConfig(), test=None, reporter=None):
    """Train ``net`` in place; returns the per-epoch history (a list of dicts).

    Parameters
    ----------
    net : Net
    images : ndarray of shape (N, 3, 32, 32), uint8
    labels : ndarray of shape (N,), integers in [0, 10)
    config : TrainConfig
    test : (images, labels), optional
        Evaluated after every epoch.
    reporter : convlearn.progress.Reporter, optional
        Progress lines with the rate and ETA; silent when None.

    Each history entry holds epoch, train_loss (mean over the epoch's
    steps), train_accuracy (on the training batches as they were seen,
    with dropout on),
    test_loss, test_accuracy, lr (at the epoch's end) and seconds.
    """
    labels = _checks.check_labels("labels", labels, len(images), 10)
    reporter = silent(reporter)
    rng = np.random.default_rng(config.data_seed)
    opt = SGD(momentum=config.momentum, weight_decay=config.weight_decay)
    schedule = make_schedule(config.schedule, config.lr, config.epochs)
    params, grads = net.params(), net.grads()
    history = []
    for epoch in range(config.epochs):
        t0 = time.perf_counter()
        batches = minibatches(len(images), config.batch_size, rng)
        loss_sum, correct, seen = 0.0, 0, 0
        for step, idx in enumerate(batches):
            x, y = net.preprocess(images[idx]), labels[idx]
            logits = net.forward(x, train=True)
            if not np.all(np.isfinite(logits)):
                raise FloatingPointError(
                    f"training diverged: non-finite logits at epoch {epoch + 1}, step {step + 1} "
                    f"(lr {schedule(epoch + step / len(batches)):.3g}); try a smaller lr"
                )
            loss, dlogits = softmax_cross_entropy(logits, y)
            net.backward(dlogits)
            lr = schedule(epoch + step / len(batches))
            opt.step(params, grads, lr)
            loss_sum += loss * len(y)
            correct += int((logits.argmax(axis=1) == y).sum())
            seen += len(y)
            rate = seen / (time.perf_counter() - t0)
            eta = (len(images) - seen) / rate
            reporter.status(
                f"epoch {epoch + 1}/{config.epochs}  step {step + 1}/{len(batches)}  "
                f"loss {loss_sum / seen:.3f}  {rate:.0f} img/s  ETA {eta:.0f}s "
            )
        reporter.end_status()
        record = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / seen,
            "train_accuracy": correct / seen,
            "lr": lr,
        }
        if test is not None:
            record["test_loss"], record["test_accuracy"] = evaluate(net, *test)
        record["seconds"] = time.perf_counter() - t0
        history.append(record)
        reporter.info(
            "epoch {epoch}: train loss {train_loss:.3f} acc {train_accuracy:.3f}".format(**record)
            + (f", test acc {record['test_accuracy']:.3f}" if test is not None else "")
            + f", {record['seconds']:.1f}s"
        )
    return history
