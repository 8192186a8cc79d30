"""The fast kernels, channels-last: x of shape (N, H, W, C).

These are what the layers run. `convlearn.nn.functional` wraps them in the
public NCHW contract, and `convlearn.nn.naive` holds the loop versions they
are tested against. Why channels-last: see `convlearn.nn.im2col`.

Each forward returns what its backward needs (the window matrix of a
convolution, the winning offsets of a max pool, the LRN scale), so a layer
caches those instead of recomputing them. A `Workspace` keeps the large
scratch arrays alive between steps: allocating a fresh 100 MB window matrix
every step costs page faults that show up in the profile.
"""

import numpy as np

from .im2col import im2col, pad_channels_last, window_view

__all__ = [
    "Workspace",
    "conv2d_forward",
    "conv2d_backward",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "lrn_forward",
    "lrn_backward",
]


class Workspace:
    """Named scratch buffers, reused while the requested shape and dtype stay."""

    def __init__(self):
        self._buffers = {}

    def cached(self, name, key, make):
        """``make()``, computed again only when ``key`` differs from the last call's."""
        entry = self._buffers.get(name)
        if entry is None or entry[0] != key:
            entry = (key, make())
            self._buffers[name] = entry
        return entry[1]

    def child(self, name):
        """A workspace of its own under ``name``, so that equal names do not collide."""
        return self.cached(name, None, Workspace)

    def get(self, name, shape, dtype, fill=None):
        """A buffer of this shape and dtype; ``fill`` is applied only when new."""
        shape = tuple(shape)
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = (
                np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
            )
            self._buffers[name] = buf
        return buf


def _scratch(ws, name, shape, dtype, fill=None):
    """A reused buffer from ``ws``, or a fresh one when there is no workspace."""
    if ws is None:
        return np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
    return ws.get(name, shape, dtype, fill)


def _padded(x, pad, fill, ws, name):
    """x (N, H, W, C) copied into a reused buffer with a border of ``fill``."""
    N, H, W, C = x.shape
    ph, pw = pad
    if ph == 0 and pw == 0:
        return x
    shape = (N, H + 2 * ph, W + 2 * pw, C)
    return pad_channels_last(x, pad, fill, out=_scratch(ws, name, shape, x.dtype, fill))


def _offsets(kernel, stride, out_hw):
    """For each kernel offset (i, j): the slices of the padded input it touches."""
    (KH, KW), (sh, sw), (OH, OW) = kernel, stride, out_hw
    for i in range(KH):
        for j in range(KW):
            yield i * KW + j, (slice(i, i + sh * OH, sh), slice(j, j + sw * OW, sw))


# --------------------------------------------------------------------------
# convolution


def conv2d_forward(x, w, b, stride, pad, ws=None):
    """y = conv(x, w) + b as one matrix product over the window matrix.

    x : (N, H, W, C); w : (F, C, KH, KW); b : (F,) or None.
    Returns y : (N, OH, OW, F) and cols : (N*OH*OW, KH*KW*C), kept for dw.
    """
    F, C, KH, KW = w.shape
    xp = _padded(x, pad, 0.0, ws, "conv_xpad")
    N, HP, WP, _ = xp.shape
    OH = (HP - KH) // stride[0] + 1
    OW = (WP - KW) // stride[1] + 1
    cols = im2col(
        xp,
        (KH, KW),
        stride,
        out=_scratch(ws, "conv_cols", (N * OH * OW, KH * KW * C), x.dtype),
    )
    w2 = w.transpose(0, 2, 3, 1).reshape(
        F, KH * KW * C
    )  # (F, KH*KW*C), row order of cols
    y = cols @ w2.T  # (N*OH*OW, KH*KW*C) @ (KH*KW*C, F) -> (N*OH*OW, F)
    if b is not None:
        y += b
    return y.reshape(N, OH, OW, F), cols


def conv2d_backward(dy, cols, x_shape, w, stride, pad, need_dx=True, ws=None):
    """Gradients of conv2d_forward from dy (N, OH, OW, F) and the cached cols.

    Returns (dx (N, H, W, C) or None, dw (F, C, KH, KW), db (F,)):

    - dw = dy^T cols, one product; db = the sum of dy over positions.
    - dx, for stride 1 (every conv of the registered nets): the gradient of
      a convolution is itself a convolution, of dy padded by K-1-pad with the
      kernel flipped in space and its channel axes swapped, so it is one more
      im2col and one more product. For other strides: the scatter of
      dy @ w2 onto the input windows (col2im), one kernel offset at a time.
    """
    F, C, KH, KW = w.shape
    N, OH, OW, _ = dy.shape
    dy2 = dy.reshape(N * OH * OW, F)
    dw = (dy2.T @ cols).reshape(F, KH, KW, C).transpose(0, 3, 1, 2)  # (F, C, KH, KW)
    db = dy2.sum(axis=0)
    if not need_dx:
        return None, dw, db
    ph, pw = pad
    if stride == (1, 1) and ph < KH and pw < KW:
        w_flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, KH, KW)
        dx, _ = conv2d_forward(
            dy,
            w_flipped,
            None,
            (1, 1),
            (KH - 1 - ph, KW - 1 - pw),
            None if ws is None else ws.child("dx"),
        )
        return dx, dw, db
    return _scatter_windows(dy2, w, x_shape, (OH, OW), stride, pad, ws), dw, db


def _scatter_windows(dy2, w, x_shape, out_hw, stride, pad, ws):
    """col2im of dy2 @ w2 (any stride), fused one kernel offset at a time.

    ``dy2 @ w_ij`` is (N*OH*OW, C), small enough to stay in cache while it is
    added onto its strided slice of dx, where the unfused version writes and
    rereads a matrix the size of cols.
    """
    F, C, KH, KW = w.shape
    N, H, W, _ = x_shape
    (OH, OW), (ph, pw) = out_hw, pad
    dxp = _scratch(ws, "conv_dxpad", (N, H + 2 * ph, W + 2 * pw, C), dy2.dtype)
    dxp.fill(0)
    # (KH, KW, F, C), contiguous so that each (F, C) slice goes straight to BLAS
    w_offsets = np.ascontiguousarray(w.transpose(2, 3, 0, 1))
    part = _scratch(ws, "conv_part", (N * OH * OW, C), dy2.dtype)
    for k, (rows, cols_) in _offsets((KH, KW), stride, (OH, OW)):
        np.matmul(dy2, w_offsets[k // KW, k % KW], out=part)  # (N*OH*OW, F) @ (F, C)
        dxp[:, rows, cols_, :] += part.reshape(N, OH, OW, C)
    return dxp[:, ph : ph + H, pw : pw + W, :]


# --------------------------------------------------------------------------
# pooling


def _window_stack(x, kernel, stride, pad, fill, ws):
    """Every window offset's values as one contiguous (KH*KW, N, OH, OW, C) array.

    Reducing over strided views directly is slow (numpy's inner loops would
    be C numbers long); one gather makes every later pass contiguous.
    """
    xp = _padded(x, pad, fill, ws, f"pool_xpad{fill}")
    win = window_view(xp, kernel, stride)  # (N, OH, OW, KH, KW, C)
    N, OH, OW, KH, KW, C = win.shape
    stack = _scratch(ws, "pool_stack", (KH * KW, N, OH, OW, C), x.dtype)
    np.copyto(stack.reshape(KH, KW, N, OH, OW, C), win.transpose(3, 4, 0, 1, 2, 5))
    return stack, xp.shape


def max_pool_forward(x, kernel, stride, pad, need_argmax=True, ws=None):
    """Max over each window; padding is -inf so it never wins.

    x : (N, H, W, C). Returns y : (N, OH, OW, C) and, when asked, argmax
    (N, OH, OW, C) of unsigned ints: the winning offset i*KW + j within
    each window. Offsets are visited in row-major order and only a strictly
    larger value replaces the current winner, so a tie goes to the first
    maximum, as in PyTorch.
    """
    stack, _ = _window_stack(x, kernel, stride, pad, -np.inf, ws)
    y = stack[0].copy()
    if not need_argmax:
        for candidate in stack[1:]:
            np.maximum(y, candidate, out=y)
        return y, None
    argmax = np.zeros(y.shape, np.min_scalar_type(len(stack) - 1))
    wins = _scratch(ws, "pool_wins", y.shape, np.bool_)
    step = _scratch(ws, "pool_step", y.shape, argmax.dtype)
    for k in range(1, len(stack)):
        np.greater(stack[k], y, out=wins)
        np.maximum(y, stack[k], out=y)
        # argmax = k where wins, else unchanged, as argmax += wins * (k - argmax):
        # unsigned arithmetic wraps, so this is exact, and it is three fast
        # passes where np.copyto(argmax, k, where=wins) is a slow one.
        np.subtract(k, argmax, out=step, dtype=argmax.dtype, casting="unsafe")
        np.multiply(step, wins, out=step)
        argmax += step
    return y, argmax


def max_pool_backward(dy, argmax, x_shape, kernel, stride, pad, ws=None):
    """Route each output gradient to the input position that won its window.

    dy, argmax : (N, OH, OW, C). Returns dx : (N, H, W, C). Windows may
    overlap (size 3, stride 2), so one input can win several windows; the
    routing is one unbuffered scatter-add (np.add.at) onto the flat index of
    each winner in the padded input.
    """
    N, H, W, C = x_shape
    (KW, (sh, sw), (ph, pw)) = (kernel[1], stride, pad)
    HP, WP = H + 2 * ph, W + 2 * pw
    _, OH, OW, _ = dy.shape

    def corner_index():  # flat index of each window's top-left corner: (N, OH, OW, C)
        n, i, j, c = np.ix_(np.arange(N), np.arange(OH), np.arange(OW), np.arange(C))
        return ((n * HP + sh * i) * WP + sw * j) * C + c

    corner = (
        corner_index()
        if ws is None
        else ws.cached("pool_corner", (dy.shape, HP, WP, stride), corner_index)
    )
    offset = np.array(
        [(i * WP + j) * C for i in range(kernel[0]) for j in range(KW)], np.intp
    )
    dxp = _scratch(ws, "pool_dxpad", (N, HP, WP, C), dy.dtype)
    dxp.fill(0)
    np.add.at(dxp.reshape(-1), (corner + offset[argmax]).reshape(-1), dy.reshape(-1))
    return dxp[:, ph : ph + H, pw : pw + W, :]


def avg_pool_forward(x, kernel, stride, pad, ws=None):
    """Mean over each window, padded zeros included (PyTorch's default)."""
    stack, _ = _window_stack(x, kernel, stride, pad, 0.0, ws)
    y = stack.sum(axis=0)
    y *= 1.0 / len(stack)
    return y


def avg_pool_backward(dy, x_shape, kernel, stride, pad):
    """Spread each output gradient evenly over its window: dx (N, H, W, C)."""
    N, H, W, C = x_shape
    (KH, KW), (ph, pw) = kernel, pad
    dxp = np.zeros((N, H + 2 * ph, W + 2 * pw, C), dy.dtype)
    share = dy * dy.dtype.type(1.0 / (KH * KW))
    for _, (rows, cols) in _offsets(kernel, stride, dy.shape[1:3]):
        dxp[:, rows, cols, :] += share
    return dxp[:, ph : ph + H, pw : pw + W, :]


# --------------------------------------------------------------------------
# local response normalisation across channels


def _channel_band(C, before, after, dtype):
    """(C, C) 0/1 matrix B with B[j, c] = 1 when c - before <= j <= c + after.

    A sum over a sliding window of channels is then one matrix product,
    ``a @ B`` for a of shape (..., C): far faster than shifted adds along
    the last axis, and exact, since the zeros add nothing.
    """
    j, c = np.ogrid[:C, :C]
    return ((j >= c - before) & (j <= c + after)).astype(dtype)


def _inverse_power(scale, beta):
    """scale ** -beta, with AlexNet's beta = 0.75 as 1 / (sqrt(s) * sqrt(sqrt(s))).

    np.power is several times slower than two square roots; both are
    correctly rounded to within an ulp or two.
    """
    if beta == 0.75:
        root = np.sqrt(scale)
        out = np.sqrt(root)
        out *= root
        return np.reciprocal(out, out=out)
    return scale**-beta


def lrn_forward(x, size, alpha, beta, k):
    """y_c = x_c / scale_c^beta, scale_c = k + (alpha/size) sum_{window(c)} x_j^2.

    The window of channel c is c - size//2 .. c + (size-1)//2 (PyTorch's and
    Caffe's ACROSS_CHANNELS). x : (N, H, W, C) with channels last. Returns y
    and the cache (scale, scale^-beta), both like x, for the backward.
    """
    C = x.shape[-1]
    band = _channel_band(C, size // 2, (size - 1) // 2, x.dtype)
    # (N*H*W, C) @ (C, C): the window sums, as one 2-D product
    scale = (np.square(x).reshape(-1, C) @ band).reshape(x.shape)
    scale *= alpha / size
    scale += k
    inv = _inverse_power(scale, beta)
    return x * inv, (scale, inv)


def lrn_backward(dy, x, y, cache, size, alpha, beta):
    """dx_i = dy_i scale_i^-beta - (2 alpha beta / size) x_i sum_{c: i in window(c)} dy_c y_c / scale_c.

    Channel i lies in the window of c exactly when c lies in the reflected
    window, hence the transposed band matrix.
    """
    scale, inv = cache
    band = _channel_band(x.shape[-1], size // 2, (size - 1) // 2, x.dtype)
    t = dy * y
    t /= scale
    dx = (t.reshape(-1, t.shape[-1]) @ band.T).reshape(x.shape)
    dx *= x
    dx *= -2.0 * alpha * beta / size
    dx += dy * inv
    return dx
