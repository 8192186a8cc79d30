"""Argument checks shared by the public functions.

Each check raises a TypeError (wrong kind of thing) or ValueError (right
kind, wrong value) whose message names the argument, shows what it got and
says what was expected. Internal invariants use ``assert`` instead.
"""

import numbers

import numpy as np

__all__ = [
    "check_float_array",
    "check_like",
    "check_pair",
    "check_positive_int",
    "check_window_fits",
    "check_labels",
    "to_generator",
]


def check_float_array(name, x, ndim=None, layout="", dtype=None):
    """x must be a float32/float64 ndarray, of ``ndim`` dims and ``dtype`` when given."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D {layout}, got shape {x.shape}".replace("  ", " ")
        )
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{name} must have the dtype of x ({np.dtype(dtype)}), got {x.dtype}"
        )


def check_like(name, a, shape, dtype):
    """a must be a float array of exactly this shape and dtype (a gradient)."""
    check_float_array(name, a, dtype=dtype)
    if a.shape != tuple(shape):
        raise ValueError(
            f"{name} must have the output's shape {tuple(shape)}, got {a.shape}"
        )


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_positive_int(name, v, minimum=1):
    """v must be an integer >= minimum; returns it as a Python int."""
    if not _is_int(v) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")
    return int(v)


def check_pair(name, v, minimum):
    """An int or a pair of ints, each >= minimum -> (int, int) for (H, W)."""
    pair = (v, v) if _is_int(v) else tuple(v) if isinstance(v, (tuple, list)) else None
    if (
        pair is None
        or len(pair) != 2
        or not all(_is_int(p) and p >= minimum for p in pair)
    ):
        raise ValueError(
            f"{name} must be an integer >= {minimum} or a pair of them, got {v!r}"
        )
    return int(pair[0]), int(pair[1])


def check_window_fits(name, kernel, hw, pad):
    """The (KH, KW) window must fit inside the padded (H, W) input."""
    KH, KW = kernel
    H, W = hw
    if KH > H + 2 * pad[0] or KW > W + 2 * pad[1]:
        raise ValueError(
            f"{name}: the {KH}x{KW} window is larger than the padded input "
            f"{H + 2 * pad[0]}x{W + 2 * pad[1]} (H, W = {H}, {W} with pad {pad})"
        )


def check_labels(name, labels, n, n_classes):
    """Integer class labels of length n, each in [0, n_classes) -> int64 array."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(
            f"{name} must have shape ({n},), one label per sample, got shape {labels.shape}"
        )
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        i = np.flatnonzero(bad)[0]
        raise ValueError(
            f"{name} must be in [0, {n_classes}), got {labels[i]} at index {i} ({n_classes} classes)"
        )
    return labels.astype(np.int64, copy=False)


def to_generator(seed):
    """A non-negative int or a numpy Generator -> a numpy Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if _is_int(seed):
        if seed < 0:
            raise ValueError(
                f"seed must be a non-negative integer or a numpy Generator, got {seed}"
            )
        return np.random.default_rng(seed)
    raise TypeError(
        f"seed must be a non-negative integer or a numpy Generator, got {seed!r}"
    )
