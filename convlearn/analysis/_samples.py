"""Activations as a matrix of samples by units, the layout every analysis uses."""

import numpy as np

__all__ = ["as_samples"]


def as_samples(a, name="a"):
    """Activations as an (S, U) matrix: rows are samples, columns are units.

    Parameters
    ----------
    a : ndarray of shape (S, U), or (N, C, H, W)
        Float activations. For NCHW input every spatial position of every
        image is one sample (the paper's convention for conv layers), so
        the result is (N*H*W, C), ordered image by image, then row-major
        over positions.
    name : str
        The argument's name, for error messages.

    Returns
    -------
    ndarray of shape (S, U), the dtype of ``a`` (a view when ``a`` is 2-D).
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got dtype {a.dtype}")
    if a.ndim == 2:
        return a
    if a.ndim == 4:
        N, C, H, W = a.shape
        # (N, C, H, W) -> (N, H, W, C) -> (N*H*W, C): one row per position
        return a.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    raise ValueError(
        f"{name} must be 2-D (samples, units) or 4-D (N, C, H, W), got shape {a.shape}"
    )
