"""Pure forward/backward functions on NCHW arrays: the engine's public contract.

Every function keeps its input's float dtype (float32 or float64) and never
writes into an array it was given. Conv weights are (F, C, KH, KW), linear
weights (out, in), as in PyTorch and Caffe. The work is done by the
channels-last kernels of `convlearn.nn.channels_last`; these wrappers check
the arguments and move the channel axis (see `convlearn.nn.im2col` for why
the kernels are channels-last). `convlearn.nn.naive` has the loop versions.

Conventions where libraries differ, written down once:

- output size floors: ``(H + 2*pad - KH) // stride + 1`` (PyTorch; Caffe's
  pooling rounds up);
- max pooling pads with -inf, so padding never wins, and a tie sends the
  gradient to the first maximum in row-major window order (PyTorch);
- average pooling counts padded zeros (PyTorch's count_include_pad=True);
- LRN's alpha is divided by ``size`` (Caffe and PyTorch);
- the loss is the mean cross-entropy of softmax(logits), in nats;
- dropout is inverted: kept units are scaled by 1/(1-p) while training, so
  evaluation is the identity.
"""

import numpy as np

from .._checks import (
    check_float_array,
    check_labels,
    check_like,
    check_pair,
    check_positive_int,
    check_window_fits,
    to_generator,
)
from . import channels_last as cl

__all__ = [
    "conv2d",
    "conv2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "relu",
    "relu_backward",
    "local_response_norm",
    "local_response_norm_backward",
    "linear",
    "linear_backward",
    "dropout",
    "dropout_backward",
    "flatten",
    "softmax_cross_entropy",
]


def _to_last(x):
    """NCHW -> NHWC, as a view (the kernels accept any strides)."""
    return x.transpose(0, 2, 3, 1)


def _to_first(x):
    """NHWC -> contiguous NCHW."""
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


# --------------------------------------------------------------------------
# convolution


def _check_conv(x, w, b, stride, pad):
    check_float_array("x", x, 4, "(N, C, H, W)")
    check_float_array("w", w, 4, "(F, C, KH, KW)", dtype=x.dtype)
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"channel mismatch: x has C={x.shape[1]} channels (shape {x.shape}) but w "
            f"expects C={w.shape[1]} (shape {w.shape} is (F, C, KH, KW))"
        )
    if b is not None:
        check_float_array("b", b, 1, "(F,)", dtype=x.dtype)
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape (F,) = ({w.shape[0]},), got {b.shape}")
    stride = check_pair("stride", stride, minimum=1)
    pad = check_pair("pad", pad, minimum=0)
    check_window_fits("w", w.shape[2:], x.shape[2:], pad)
    return stride, pad


def conv2d(x, w, b=None, stride=1, pad=0):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), float32 or float64
    w : ndarray of shape (F, C, KH, KW), the same dtype
    b : ndarray of shape (F,), optional
    stride, pad : int or (int, int)
        Step between windows and zero padding on each side, per (H, W).

    Returns
    -------
    y : ndarray of shape (N, F, OH, OW), OH = (H + 2*pad - KH) // stride + 1

    Notes
    -----
    ``y[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xpad[n, c, i*s + u, j*s + v]``,
    computed as one matrix product of the window matrix (im2col) with the
    flattened weights.
    """
    stride, pad = _check_conv(x, w, b, stride, pad)
    y, _ = cl.conv2d_forward(_to_last(x), w, b, stride, pad)
    return _to_first(y)


def conv2d_backward(dy, x, w, stride=1, pad=0):
    """Gradients of `conv2d`: returns (dx, dw, db) shaped like x, w and (F,).

    dy : ndarray of shape (N, F, OH, OW), the gradient of the loss at y.
    dw = sum over windows of dy * window; dx scatters dy @ w back onto the
    windows (col2im), adding where windows overlap.
    """
    stride, pad = _check_conv(x, w, None, stride, pad)
    x_last = _to_last(x)
    y_shape = _conv_out_shape(x.shape, w.shape, stride, pad)
    check_like("dy", dy, y_shape, x.dtype)
    _, cols = cl.conv2d_forward(x_last, w, None, stride, pad)
    dx, dw, db = cl.conv2d_backward(_to_last(dy), cols, x_last.shape, w, stride, pad)
    return _to_first(dx), np.ascontiguousarray(dw), db


def _conv_out_shape(x_shape, w_shape, stride, pad):
    N, _, H, W = x_shape
    F, _, KH, KW = w_shape
    return (
        N,
        F,
        (H + 2 * pad[0] - KH) // stride[0] + 1,
        (W + 2 * pad[1] - KW) // stride[1] + 1,
    )


# --------------------------------------------------------------------------
# pooling


def _check_pool(x, size, stride, pad):
    check_float_array("x", x, 4, "(N, C, H, W)")
    size = check_pair("size", size, minimum=1)
    stride = check_pair("stride", stride, minimum=1)
    pad = check_pair("pad", pad, minimum=0)
    if pad[0] > size[0] // 2 or pad[1] > size[1] // 2:
        raise ValueError(
            f"pad must be at most half the window: got pad={pad} for size={size}"
        )
    check_window_fits("size", size, x.shape[2:], pad)
    return size, stride, pad


def _pool_out_shape(x_shape, size, stride, pad):
    N, C, H, W = x_shape
    return (
        N,
        C,
        (H + 2 * pad[0] - size[0]) // stride[0] + 1,
        (W + 2 * pad[1] - size[1]) // stride[1] + 1,
    )


def max_pool2d(x, size, stride, pad=0):
    """Max over each size x size window: y (N, C, OH, OW); padding never wins."""
    size, stride, pad = _check_pool(x, size, stride, pad)
    y, _ = cl.max_pool_forward(_to_last(x), size, stride, pad, need_argmax=False)
    return _to_first(y)


def max_pool2d_backward(dy, x, size, stride, pad=0):
    """Gradient of `max_pool2d`: dx (N, C, H, W); ties go to the first maximum."""
    size, stride, pad = _check_pool(x, size, stride, pad)
    check_like("dy", dy, _pool_out_shape(x.shape, size, stride, pad), x.dtype)
    x_last = _to_last(x)
    _, argmax = cl.max_pool_forward(x_last, size, stride, pad)
    return _to_first(
        cl.max_pool_backward(_to_last(dy), argmax, x_last.shape, size, stride, pad)
    )


def avg_pool2d(x, size, stride, pad=0):
    """Mean over each window, padded zeros counted: y (N, C, OH, OW)."""
    size, stride, pad = _check_pool(x, size, stride, pad)
    return _to_first(cl.avg_pool_forward(_to_last(x), size, stride, pad))


def avg_pool2d_backward(dy, x, size, stride, pad=0):
    """Gradient of `avg_pool2d`: dx (N, C, H, W)."""
    size, stride, pad = _check_pool(x, size, stride, pad)
    check_like("dy", dy, _pool_out_shape(x.shape, size, stride, pad), x.dtype)
    x_last = _to_last(x)
    return _to_first(
        cl.avg_pool_backward(_to_last(dy), x_last.shape, size, stride, pad)
    )


# --------------------------------------------------------------------------
# elementwise and dense


def relu(x):
    """max(x, 0), any shape."""
    check_float_array("x", x)
    return np.maximum(x, 0)


def relu_backward(dy, x):
    """dy where x > 0, else 0 (the subgradient 0 at x = 0, as PyTorch)."""
    check_float_array("x", x)
    check_like("dy", dy, x.shape, x.dtype)
    return dy * (x > 0)


def _check_lrn(x, size, alpha, beta, k):
    check_float_array("x", x, 4, "(N, C, H, W)")
    check_positive_int("size", size)
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if k <= 0:
        raise ValueError(
            f"k must be positive so that the scale never vanishes, got {k!r}"
        )


def local_response_norm(x, size=5, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels (AlexNet, Caffe, PyTorch).

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    size : int
        Channels in each window: c - size//2 .. c + (size-1)//2, zeros
        beyond the first and last channel.

    Returns
    -------
    y : ndarray of shape (N, C, H, W)

    Notes
    -----
    ``y_c = x_c / (k + (alpha / size) * sum_{j in window(c)} x_j^2) ** beta``.
    """
    _check_lrn(x, size, alpha, beta, k)
    y, _ = cl.lrn_forward(_to_last(x), size, alpha, beta, k)
    return _to_first(y)


def local_response_norm_backward(dy, x, size=5, alpha=1e-4, beta=0.75, k=1.0):
    """Gradient of `local_response_norm`: dx (N, C, H, W).

    ``dx_i = dy_i s_i^-beta - (2 alpha beta / size) x_i sum_{c: i in window(c)} dy_c y_c / s_c``
    with ``s`` the scale inside the power.
    """
    _check_lrn(x, size, alpha, beta, k)
    check_like("dy", dy, x.shape, x.dtype)
    x_last = _to_last(x)
    y, cache = cl.lrn_forward(x_last, size, alpha, beta, k)
    return _to_first(cl.lrn_backward(_to_last(dy), x_last, y, cache, size, alpha, beta))


def _check_linear(x, w):
    check_float_array("x", x, 2, "(N, in)")
    check_float_array("w", w, 2, "(out, in)", dtype=x.dtype)
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"x has {x.shape[1]} features (shape {x.shape}) but w (out, in) = {w.shape} expects {w.shape[1]}"
        )


def linear(x, w, b):
    """y = x w^T + b: x (N, in), w (out, in), b (out,) or None -> y (N, out)."""
    _check_linear(x, w)
    y = x @ w.T
    if b is not None:
        check_float_array("b", b, 1, "(out,)", dtype=x.dtype)
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"b must have shape (out,) = ({w.shape[0]},), got {b.shape}"
            )
        y += b
    return y


def linear_backward(dy, x, w):
    """Gradients of `linear`: dx = dy w (N, in), dw = dy^T x (out, in), db (out,)."""
    _check_linear(x, w)
    check_like("dy", dy, (x.shape[0], w.shape[0]), x.dtype)
    return dy @ w, dy.T @ x, dy.sum(axis=0)


def dropout(x, p=0.5, seed=0, train=True):
    """Inverted dropout: zero each entry with probability p, scale the rest by 1/(1-p).

    Returns (y, mask) with mask like x (0 or 1/(1-p)) for `dropout_backward`;
    at evaluation (train=False) y is x unchanged and mask is None. ``seed``
    is an int or a numpy Generator (drawn from, so successive calls differ).
    """
    check_float_array("x", x)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p must be in [0, 1), got {p!r}")
    if not train or p == 0.0:
        return x.copy(), None
    rng = to_generator(seed)
    mask = (rng.random(x.shape, dtype=x.dtype) >= p).astype(x.dtype)
    mask *= 1.0 / (1.0 - p)
    return x * mask, mask


def dropout_backward(dy, mask):
    """Gradient of `dropout`: dy * mask (mask None means evaluation: dy)."""
    check_float_array("dy", dy)
    if mask is None:
        return dy.copy()
    check_like("dy", dy, mask.shape, mask.dtype)
    return dy * mask


def flatten(x):
    """(N, C, H, W) -> (N, C*H*W) in C order, PyTorch's flatten; undo with reshape."""
    check_float_array("x", x)
    return x.reshape(x.shape[0], -1)


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, in nats.

    Parameters
    ----------
    logits : ndarray of shape (N, K), finite
    labels : ndarray of shape (N,), integers in [0, K)

    Returns
    -------
    loss : float
        ``mean_n (logsumexp(logits[n]) - logits[n, labels[n]])``
    dlogits : ndarray of shape (N, K)
        ``(softmax(logits) - onehot(labels)) / N``

    Notes
    -----
    The row maximum is subtracted before exponentiating (log-sum-exp), so
    logits of magnitude 1e4 neither overflow nor lose the answer.
    """
    check_float_array("logits", logits, 2, "(N, K)")
    if not np.all(np.isfinite(logits)):
        raise ValueError(
            "logits must be finite; they contain NaN or inf (a diverged net?)"
        )
    N, K = logits.shape
    if N == 0 or K == 0:
        raise ValueError(
            f"logits must hold at least one sample and one class, got shape {logits.shape}"
        )
    labels = check_labels("labels", labels, N, K)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1))
    rows = np.arange(N)
    loss = float(np.mean(log_z - shifted[rows, labels]))
    dlogits = np.exp(shifted - log_z[:, None])
    dlogits[rows, labels] -= 1.0
    dlogits /= N
    return loss, dlogits
