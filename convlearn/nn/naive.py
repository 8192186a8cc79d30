"""Slow, obviously-correct loop versions of the engine's kernels.

Each function here is the textbook definition written as Python loops over
output positions, so that it can be read top to bottom and checked by eye.
The fast kernels in :mod:`convlearn.nn.functional` are tested against these.

Conventions (the same as PyTorch's, which the tests use as a second oracle):

- NCHW input x of shape (N, C, H, W), conv weights w of shape (F, C, KH, KW).
- Convolution is cross-correlation (the kernel is not flipped).
- Output size is ``(H + 2*pad - KH) // stride + 1``: the floor drops a last
  window that would stick out of the padded input.
- ``stride`` and ``pad`` (and a pool's ``size``) are an int or an (h, w) pair.
- Sums are accumulated in float64 and the result is cast back to the
  dtype of x (float32 or float64), so a float32 result is the exact answer
  rounded once.

Conv and pooling loop over every (image, channel, output row, output column);
LRN, which acts on each position alike, loops over (image, channel) and
handles a whole H x W plane at once.
"""

import numpy as np

__all__ = [
    "avg_pool2d_backward_naive",
    "avg_pool2d_naive",
    "conv2d_backward_naive",
    "conv2d_naive",
    "local_response_norm_backward_naive",
    "local_response_norm_naive",
    "max_pool2d_backward_naive",
    "max_pool2d_naive",
]


def _pair(value, name, minimum):
    """An int or an (h, w) pair of ints, each >= minimum, as a tuple (h, w)."""
    pair = (value, value) if np.ndim(value) == 0 else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(
            f"{name} must be an int or an (h, w) pair of ints, got {value!r}"
        )
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_x(x, name="x"):
    """x must be a 4-D (N, C, H, W) float32 or float64 array."""
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        got = getattr(x, "dtype", type(x).__name__)
        raise TypeError(f"{name} must be a float32 or float64 ndarray, got {got}")
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got shape {x.shape}")


def _out_size(H, W, KH, KW, stride, pad):
    """(OH, OW) = ((H + 2*pad - KH) // stride + 1, the same for W); at least 1."""
    OH = (H + 2 * pad[0] - KH) // stride[0] + 1
    OW = (W + 2 * pad[1] - KW) // stride[1] + 1
    if OH < 1 or OW < 1:
        raise ValueError(
            f"window ({KH}, {KW}) does not fit input ({H}, {W}) padded by {pad}"
        )
    return OH, OW


def _pad(x, pad, fill):
    """x (N, C, H, W) -> (N, C, H + 2*ph, W + 2*pw) float64, the border set to fill."""
    ph, pw = pad
    return np.pad(
        x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill
    )


def conv2d_naive(x, w, b=None, stride=1, pad=0):
    """2-D convolution (cross-correlation), one output position at a time.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), float32 or float64
    w : ndarray of shape (F, C, KH, KW)
    b : ndarray of shape (F,) or None
    stride, pad : int or (h, w) pair of ints; zeros are padded on every side.

    Returns
    -------
    y : ndarray of shape (N, F, OH, OW), dtype of x

    Notes
    -----
    With xp the zero-padded x and (sh, sw) the stride,
    ``y[n, f, i, j] = b[f] + sum_{c,p,q} xp[n, c, i*sh + p, j*sw + q] w[f, c, p, q]``.
    """
    _check_x(x)
    stride, pad = _pair(stride, "stride", 1), _pair(pad, "pad", 0)
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError(
            f"w has {Cw} input channels, x has {C}: shapes {w.shape} and {x.shape}"
        )
    OH, OW = _out_size(H, W, KH, KW, stride, pad)
    xp = _pad(x, pad, 0.0)
    w64 = w.astype(np.float64)
    y = np.zeros((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    top, left = i * stride[0], j * stride[1]
                    window = xp[n, :, top : top + KH, left : left + KW]  # (C, KH, KW)
                    y[n, f, i, j] = np.sum(window * w64[f])
            if b is not None:
                y[n, f] += b[f]
    return y.astype(x.dtype)


def conv2d_backward_naive(dy, x, w, stride=1, pad=0):
    """Gradients of conv2d_naive: each output position scatters its share back.

    Parameters
    ----------
    dy : ndarray of shape (N, F, OH, OW), gradient of the loss w.r.t. y
    x : ndarray of shape (N, C, H, W), the forward input
    w : ndarray of shape (F, C, KH, KW)
    stride, pad : as in the forward pass

    Returns
    -------
    dx : ndarray of shape (N, C, H, W), dtype of x
    dw : ndarray of shape (F, C, KH, KW), dtype of w
    db : ndarray of shape (F,), dtype of w

    Notes
    -----
    Output y[n, f, i, j] saw the window xp[n, :, i*sh : i*sh+KH, j*sw : j*sw+KW]
    through w[f], so ``dw[f] += dy[n, f, i, j] * window``, ``dwindow += dy[n, f,
    i, j] * w[f]`` and ``db[f] = sum_{n, i, j} dy[n, f, i, j]``. The padded
    border of dxp is then cut off.
    """
    _check_x(x)
    stride, pad = _pair(stride, "stride", 1), _pair(pad, "pad", 0)
    N, _, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = _out_size(H, W, KH, KW, stride, pad)
    if dy.shape != (N, F, OH, OW):
        raise ValueError(f"dy must have shape {(N, F, OH, OW)}, got {dy.shape}")
    xp = _pad(x, pad, 0.0)
    w64 = w.astype(np.float64)
    dxp, dw = np.zeros_like(xp), np.zeros(w.shape)
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    top, left = i * stride[0], j * stride[1]
                    g = float(dy[n, f, i, j])
                    dw[f] += g * xp[n, :, top : top + KH, left : left + KW]
                    dxp[n, :, top : top + KH, left : left + KW] += g * w64[f]
    db = dy.astype(np.float64).sum(axis=(0, 2, 3))
    dx = dxp[:, :, pad[0] : pad[0] + H, pad[1] : pad[1] + W]
    return dx.astype(x.dtype), dw.astype(w.dtype), db.astype(w.dtype)


def _pool_args(x, size, stride, pad):
    """Validate pooling arguments; return (size, stride, pad, OH, OW)."""
    _check_x(x)
    size, stride = _pair(size, "size", 1), _pair(stride, "stride", 1)
    pad = _pair(pad, "pad", 0)
    # PyTorch's rule; it also guarantees that every window holds a real element.
    if pad[0] > size[0] // 2 or pad[1] > size[1] // 2:
        raise ValueError(
            f"pad must be at most half the window size, got pad={pad}, size={size}"
        )
    OH, OW = _out_size(x.shape[2], x.shape[3], size[0], size[1], stride, pad)
    return size, stride, pad, OH, OW


def _windows(OH, OW, size, stride):
    """Yield (i, j, rows, cols): each output position and its window's slices."""
    for i in range(OH):
        for j in range(OW):
            rows = slice(i * stride[0], i * stride[0] + size[0])
            cols = slice(j * stride[1], j * stride[1] + size[1])
            yield i, j, rows, cols


def max_pool2d_naive(x, size, stride, pad=0):
    """Max pooling: each output is the largest value in its window.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), float32 or float64
    size, stride, pad : int or (h, w) pair; pad is at most size // 2.

    Returns
    -------
    y : ndarray of shape (N, C, OH, OW), dtype of x

    Notes
    -----
    The border is padded with -inf, so padding never wins a max.
    """
    size, stride, pad, OH, OW = _pool_args(x, size, stride, pad)
    N, C = x.shape[:2]
    xp = _pad(x, pad, -np.inf)
    y = np.zeros((N, C, OH, OW))
    for n in range(N):
        for c in range(C):
            for i, j, rows, cols in _windows(OH, OW, size, stride):
                y[n, c, i, j] = xp[n, c, rows, cols].max()
    return y.astype(x.dtype)


def max_pool2d_backward_naive(dy, x, size, stride, pad=0):
    """Gradient of max_pool2d_naive: each output's gradient goes to its argmax.

    Parameters
    ----------
    dy : ndarray of shape (N, C, OH, OW)
    x : ndarray of shape (N, C, H, W), the forward input
    size, stride, pad : as in the forward pass

    Returns
    -------
    dx : ndarray of shape (N, C, H, W), dtype of x

    Notes
    -----
    A tie sends the whole gradient to the first maximum of the window in
    row-major order (``np.argmax`` of the flattened window), as PyTorch does.
    Overlapping windows add their contributions.
    """
    size, stride, pad, OH, OW = _pool_args(x, size, stride, pad)
    N, C, H, W = x.shape
    if dy.shape != (N, C, OH, OW):
        raise ValueError(f"dy must have shape {(N, C, OH, OW)}, got {dy.shape}")
    xp = _pad(x, pad, -np.inf)
    dxp = np.zeros_like(xp)
    for n in range(N):
        for c in range(C):
            for i, j, rows, cols in _windows(OH, OW, size, stride):
                p, q = np.unravel_index(np.argmax(xp[n, c, rows, cols]), size)
                dxp[n, c, rows.start + p, cols.start + q] += dy[n, c, i, j]
    dx = dxp[:, :, pad[0] : pad[0] + H, pad[1] : pad[1] + W]
    return dx.astype(x.dtype)


def avg_pool2d_naive(x, size, stride, pad=0):
    """Average pooling: each output is the mean of its window, padding included.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), float32 or float64
    size, stride, pad : int or (h, w) pair; pad is at most size // 2.

    Returns
    -------
    y : ndarray of shape (N, C, OH, OW), dtype of x

    Notes
    -----
    The border is padded with zeros that count in the average (PyTorch's
    ``count_include_pad=True``): every window is divided by KH*KW.
    """
    size, stride, pad, OH, OW = _pool_args(x, size, stride, pad)
    N, C = x.shape[:2]
    xp = _pad(x, pad, 0.0)
    y = np.zeros((N, C, OH, OW))
    for n in range(N):
        for c in range(C):
            for i, j, rows, cols in _windows(OH, OW, size, stride):
                y[n, c, i, j] = xp[n, c, rows, cols].sum() / (size[0] * size[1])
    return y.astype(x.dtype)


def avg_pool2d_backward_naive(dy, x, size, stride, pad=0):
    """Gradient of avg_pool2d_naive: each output spreads dy / (KH*KW) over its window.

    Parameters
    ----------
    dy : ndarray of shape (N, C, OH, OW)
    x : ndarray of shape (N, C, H, W), the forward input (only its shape is used)
    size, stride, pad : as in the forward pass

    Returns
    -------
    dx : ndarray of shape (N, C, H, W), dtype of x
    """
    size, stride, pad, OH, OW = _pool_args(x, size, stride, pad)
    N, C, H, W = x.shape
    if dy.shape != (N, C, OH, OW):
        raise ValueError(f"dy must have shape {(N, C, OH, OW)}, got {dy.shape}")
    dxp = np.zeros((N, C, H + 2 * pad[0], W + 2 * pad[1]))
    for n in range(N):
        for c in range(C):
            for i, j, rows, cols in _windows(OH, OW, size, stride):
                dxp[n, c, rows, cols] += dy[n, c, i, j] / (size[0] * size[1])
    dx = dxp[:, :, pad[0] : pad[0] + H, pad[1] : pad[1] + W]
    return dx.astype(x.dtype)


def _lrn_args(x, size):
    """Validate LRN arguments."""
    _check_x(x)
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")


def _lrn_denominator(x, size, alpha, k):
    """s[n, c] = k + (alpha/size) * sum of x[n, j]**2 over c's window (float64)."""
    N, C, H, W = x.shape
    x64 = x.astype(np.float64)
    s = np.zeros((N, C, H, W))
    for n in range(N):
        for c in range(C):
            # Channels c - size//2 .. c + (size-1)//2; those outside 0..C-1 are zero.
            lo, hi = max(0, c - size // 2), min(C, c + (size - 1) // 2 + 1)
            s[n, c] = k + (alpha / size) * np.sum(x64[n, lo:hi] ** 2, axis=0)
    return s


def local_response_norm_naive(x, size=5, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels (Caffe / PyTorch formula).

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), float32 or float64
    size : int, number of channels in the window
    alpha, beta, k : float

    Returns
    -------
    y : ndarray of shape (N, C, H, W), dtype of x

    Notes
    -----
    ``y_c = x_c / s_c**beta`` with
    ``s_c = k + (alpha / size) * sum_{j = c - size//2}^{c + (size-1)//2} x_j**2``
    at every (n, h, w); channels outside 0..C-1 count as zero. alpha is
    divided by size, as in Caffe and PyTorch (the AlexNet paper does not).
    """
    _lrn_args(x, size)
    s = _lrn_denominator(x, size, alpha, k)
    return (x.astype(np.float64) / s**beta).astype(x.dtype)


def local_response_norm_backward_naive(dy, x, size=5, alpha=1e-4, beta=0.75, k=1.0):
    """Gradient of local_response_norm_naive.

    Parameters
    ----------
    dy : ndarray of shape (N, C, H, W)
    x : ndarray of shape (N, C, H, W), the forward input
    size, alpha, beta, k : as in the forward pass

    Returns
    -------
    dx : ndarray of shape (N, C, H, W), dtype of x

    Notes
    -----
    Channel i enters y_i directly and every s_c whose window holds i, that
    is c from i - (size-1)//2 to i + size//2 (clipped to 0..C-1). With
    ``d s_c / d x_i = 2 (alpha/size) x_i`` and
    ``d y_c / d s_c = -beta x_c s_c**(-beta-1)``, the chain rule gives::

        dx_i = dy_i s_i**(-beta)
               - (2 alpha beta / size) x_i
                 * sum_{c = i-(size-1)//2}^{i+size//2} dy_c x_c s_c**(-beta-1)
    """
    _lrn_args(x, size)
    if dy.shape != x.shape:
        raise ValueError(f"dy must have the shape of x {x.shape}, got {dy.shape}")
    N, C, H, W = x.shape
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    s = _lrn_denominator(x, size, alpha, k)
    through_s = dy64 * x64 * s ** (-beta - 1)  # the summand dy_c x_c s_c**(-beta-1)
    dx = np.zeros((N, C, H, W))
    for n in range(N):
        for i in range(C):
            lo, hi = max(0, i - (size - 1) // 2), min(C, i + size // 2 + 1)
            direct = dy64[n, i] * s[n, i] ** (-beta)
            window_sum = np.sum(through_s[n, lo:hi], axis=0)  # (H, W)
            dx[n, i] = direct - (2 * alpha * beta / size) * x64[n, i] * window_sum
    return dx.astype(x.dtype)
