"""The `Dataset` container every loader returns, and where data lives.

A `Dataset` holds uint8 images (N, 3, H, W) (32 x 32 for the nets of
`convlearn.nn.model`), int64 labels (N,) and the class names. `data_home`
names the folder for downloaded data and caches: the ``CONVLEARN_DATA``
environment variable, else ``~/.cache/convlearn``. Nothing is ever written
inside the repository.
"""

import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import check_labels

__all__ = ["Dataset", "data_home"]


# ---- the container ---------------------------------------------------------


def _check_images(name, x):
    """x must be a uint8 ndarray (N, 3, H, W)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array (N, 3, H, W) uint8, got {type(x).__name__}"
        )
    if x.dtype != np.uint8:
        raise TypeError(
            f"{name} must have dtype uint8 (pixels 0..255), got dtype {x.dtype}"
        )
    if x.ndim != 4 or x.shape[1] != 3 or 0 in x.shape[2:]:
        raise ValueError(
            f"{name} must have shape (N, 3, H, W), RGB channels first, got shape {x.shape}"
        )


def _check_count(name, n, limit):
    """n must be None (all `limit`) or an int in [0, limit] -> int."""
    if n is None:
        return limit
    if (
        not isinstance(n, numbers.Integral)
        or isinstance(n, bool)
        or not 0 <= n <= limit
    ):
        raise ValueError(
            f"{name} must be an integer in [0, {limit}] or None, got {n!r}"
        )
    return int(n)


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train and test images with their labels and class names.

    Parameters
    ----------
    x_train : ndarray of shape (N, 3, H, W), uint8
        Training images, RGB, channels first.
    y_train : ndarray of shape (N,), int64
        Class indices into `classes`. Any integer dtype is accepted and
        stored as int64.
    x_test : ndarray of shape (M, 3, H, W), uint8
        Test images, of the training images' H and W.
    y_test : ndarray of shape (M,), int64
    classes : list of str
        Distinct class names; label k names ``classes[k]``.

    Raises TypeError for a wrong dtype or type and ValueError for a wrong
    shape, mismatched lengths or a label outside ``[0, len(classes))``; the
    message names the field. The fields cannot be reassigned, but the arrays
    are not copied: treat them as read only.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list

    def __post_init__(self):
        classes = self.classes
        if isinstance(classes, str) or not all(isinstance(c, str) for c in classes):
            raise TypeError(f"classes must be a list of str, got {classes!r}")
        classes = list(classes)
        if not classes or len(set(classes)) != len(classes):
            raise ValueError(
                f"classes must be distinct names, at least one, got {classes!r}"
            )
        object.__setattr__(self, "classes", classes)
        for split in ("train", "test"):
            x = getattr(self, f"x_{split}")
            _check_images(f"x_{split}", x)
            y = check_labels(
                f"y_{split}", getattr(self, f"y_{split}"), len(x), len(classes)
            )
            object.__setattr__(self, f"y_{split}", y)
        if self.x_train.shape[2:] != self.x_test.shape[2:]:
            raise ValueError(
                f"x_train and x_test must have one image size, got shapes "
                f"{self.x_train.shape} and {self.x_test.shape}"
            )

    @property
    def n_classes(self):
        """len(classes)."""
        return len(self.classes)

    def subset(self, n_train=None, n_test=None, seed=None):
        """A smaller Dataset of n_train training and n_test test images (copies).

        ``seed=None`` takes the first images. An int or Generator `seed`
        draws a random sample instead, stratified: each class keeps its share
        of the images (to within one), and the images keep their order.
        None for a count keeps every image of that split.
        """
        n_train = _check_count("n_train", n_train, len(self.y_train))
        n_test = _check_count("n_test", n_test, len(self.y_test))
        rng = None if seed is None else np.random.default_rng(seed)
        i = _pick(self.y_train, n_train, self.n_classes, rng)
        j = _pick(self.y_test, n_test, self.n_classes, rng)
        return Dataset(
            self.x_train[i],
            self.y_train[i],
            self.x_test[j],
            self.y_test[j],
            self.classes,
        )

    def __repr__(self):
        return (
            f"Dataset(x_train={self.x_train.shape}, x_test={self.x_test.shape}, "
            f"classes={self.classes})"
        )


def _pick(y, n, n_classes, rng):
    """Indices of n of the labels y: the first n, or a stratified random sample."""
    if rng is None:
        return np.arange(n)
    order = rng.permutation(len(y))
    yp = y[order]
    # rank of each image within its class, in the shuffled order
    by_class = np.argsort(yp, kind="stable")
    first = np.searchsorted(yp[by_class], yp[by_class])
    rank = np.empty(len(y), np.int64)
    rank[by_class] = np.arange(len(y)) - first
    # Taking the n smallest fractional positions (rank + 1/2) / count gives
    # every class floor or ceil of its proportional share.
    counts = np.bincount(yp, minlength=n_classes)
    key = (rank + 0.5) / counts[yp]
    return np.sort(order[np.argsort(key, kind="stable")[:n]])


# ---- where data lives ------------------------------------------------------


def data_home():
    """The folder for downloaded data sets and caches, as a Path.

    ``$CONVLEARN_DATA`` when set and not empty (``~`` expanded), else
    ``~/.cache/convlearn``. Not created here: functions that write make it
    when they first need it. convlearn never writes inside the repository.
    """
    env = os.environ.get("CONVLEARN_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "convlearn"
