"""Numerical gradient checking by central differences.

A backward pass is checked by comparing it with the gradient of the scalar
``L(x) = sum(f(x) * dout)`` estimated one element at a time:

    dL/dx[i] ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

whose error is O(eps**2) from truncation plus O(1e-16 / eps) from round-off,
so about 1e-10 relative for eps = 1e-6 in float64. float32 cannot resolve
such steps, which is why everything here demands float64.
"""

import numpy as np

__all__ = ["check_gradient", "numerical_gradient", "relative_error"]


def _require_float64(a, name):
    """Raise TypeError unless a is a float64 ndarray."""
    if not isinstance(a, np.ndarray) or a.dtype != np.float64:
        got = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
        raise TypeError(f"{name} must be a float64 ndarray, got {got}")


def numerical_gradient(f, x, dout, eps=1e-6):
    """Central-difference gradient of ``sum(f(x) * dout)`` with respect to x.

    Parameters
    ----------
    f : callable
        Maps an ndarray shaped like x to a float64 ndarray shaped like dout.
    x : ndarray, float64
        The point. It is never modified: the perturbations are made on a copy.
    dout : ndarray, float64
        The upstream gradient, shaped like f(x).
    eps : float
        The step; each element of x is moved by +eps and -eps in turn.

    Returns
    -------
    dx : ndarray, shape and dtype of x

    Raises
    ------
    TypeError
        If x, dout or f(x) is not float64.
    ValueError
        If f(x) and dout differ in shape, or eps is not positive.
    """
    _require_float64(x, "x")
    _require_float64(dout, "dout")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    xc = x.copy()
    y = f(xc)
    _require_float64(y, "f(x)")
    if y.shape != dout.shape:
        raise ValueError(f"f(x) has shape {y.shape} but dout has shape {dout.shape}")

    dx = np.zeros_like(xc)
    for idx in np.ndindex(*xc.shape):
        original = xc[idx]
        xc[idx] = original + eps
        loss_plus = np.sum(f(xc) * dout)
        xc[idx] = original - eps
        loss_minus = np.sum(f(xc) * dout)
        xc[idx] = original  # restore before the next element is moved
        dx[idx] = (loss_plus - loss_minus) / (2 * eps)
    return dx


def relative_error(a, b):
    """The project's relative error: ``max|a - b| / max|b|`` over the array.

    Parameters
    ----------
    a : ndarray, float32 or float64
        The value under test.
    b : ndarray of the shape of a, float32 or float64
        The reference; its largest magnitude sets the scale.

    Returns
    -------
    err : float
        Computed in float64. NaN anywhere in a or b gives NaN, so a
        comparison ``err < tol`` fails.

    Notes
    -----
    Guard: when ``max|b| == 0`` (an all-zero reference) the scale is
    undefined and the absolute error ``max|a - b|`` is returned instead.
    Unlike the gradient functions this accepts float32 too, so that float32
    kernels can be compared with their float64 references.
    """
    for name, arr in (("a", a), ("b", b)):
        if not isinstance(arr, np.ndarray) or arr.dtype not in (np.float32, np.float64):
            got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
            raise TypeError(f"{name} must be a float32 or float64 ndarray, got {got}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("a and b are empty: the relative error is undefined")
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    diff = float(np.max(np.abs(a64 - b64)))
    scale = float(np.max(np.abs(b64)))
    return diff if scale == 0 else diff / scale


def check_gradient(f, x, dout, analytic, eps=1e-6):
    """Relative error of an analytic gradient against :func:`numerical_gradient`.

    Parameters
    ----------
    f, x, dout, eps : as in :func:`numerical_gradient`
    analytic : ndarray of the shape of x, float64
        The gradient of ``sum(f(x) * dout)`` from the backward pass.

    Returns
    -------
    err : float
        ``relative_error(analytic, numerical)``: the numerical gradient is
        the reference. Around 1e-8 or less means the backward pass is right.
    """
    _require_float64(analytic, "analytic")
    if analytic.shape != x.shape:
        raise ValueError(f"analytic has shape {analytic.shape}, x has shape {x.shape}")
    return relative_error(analytic, numerical_gradient(f, x, dout, eps))
