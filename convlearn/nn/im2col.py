"""Gathering sliding windows into a matrix (im2col) and scattering them back.

Convolution becomes one matrix product once every KH x KW x C window of the
input is laid out as one row of a matrix: ``cols @ w2.T``. This module does
the gathering and its adjoint, the scatter-add (col2im).

The engine works channels-last internally, x of shape (N, H, W, C). Then a
window row, for one output position, is KH runs of KW*C contiguous numbers
of the padded input, and the product ``cols @ w2.T`` lands directly in
(N, OH, OW, F) order: no transposes anywhere in the conv stack. A row's
entries are ordered (KH, KW, C), so the matching weight matrix is
``w2 = w.transpose(0, 2, 3, 1).reshape(F, KH*KW*C)`` for w of shape
(F, C, KH, KW).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["output_size", "pad_channels_last", "window_view", "im2col", "col2im"]


def output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output length of a sliding window: ``(size + 2*pad - kernel) // stride + 1``.

    The floor drops a last window that would stick out of the padded input,
    as PyTorch does (Caffe's pooling takes the ceiling instead).
    """
    return (size + 2 * pad - kernel) // stride + 1


def pad_channels_last(x, pad, fill=0.0, out=None):
    """Copy x (N, H, W, C) into the middle of a (N, H + 2*ph, W + 2*pw, C) array.

    ``pad`` is (ph, pw). ``out``, when given, is reused: only its interior is
    written, so its border must already hold ``fill`` (it does when it came
    from an earlier call with the same fill). This saves an allocation and a
    fill per layer and step.
    """
    N, H, W, C = x.shape
    ph, pw = pad
    shape = (N, H + 2 * ph, W + 2 * pw, C)
    if out is None:
        out = np.full(shape, fill, dtype=x.dtype)
    out[:, ph : ph + H, pw : pw + W, :] = x
    return out


def window_view(xp, kernel, stride):
    """A read-only view (N, OH, OW, KH, KW, C) of every window of padded xp.

    No data moves: the view's strides step ``stride`` positions per output
    position and one position per kernel offset.
    """
    N, HP, WP, C = xp.shape
    (KH, KW), (sh, sw) = kernel, stride
    OH = (HP - KH) // sh + 1
    OW = (WP - KW) // sw + 1
    sN, sH, sW, sC = xp.strides
    return as_strided(
        xp,
        shape=(N, OH, OW, KH, KW, C),
        strides=(sN, sh * sH, sw * sW, sH, sW, sC),
        writeable=False,
    )


def im2col(xp, kernel, stride, out=None):
    """Gather the windows of a padded input into a matrix.

    Parameters
    ----------
    xp : ndarray of shape (N, HP, WP, C)
        The input, already padded (see `pad_channels_last`).
    kernel, stride : (int, int)
        Window size (KH, KW) and step (sh, sw).
    out : ndarray of shape (N*OH*OW, KH*KW*C), optional
        A buffer to fill, reused between calls of the same shape.

    Returns
    -------
    cols : ndarray of shape (N*OH*OW, KH*KW*C)
        Row ``(n*OH + i)*OW + j`` is the window whose top-left corner is at
        ``(i*sh, j*sw)`` of padded image n, flattened in (KH, KW, C) order.
    """
    win = window_view(xp, kernel, stride)
    N, OH, OW, KH, KW, C = win.shape
    if out is None:
        out = np.empty((N * OH * OW, KH * KW * C), dtype=xp.dtype)
    # One strided copy: numpy merges the contiguous (KW, C) run of each
    # window row, so the gather moves KW*C numbers at a time.
    np.copyto(out.reshape(win.shape), win)
    return out


def col2im(dcols, padded_shape, kernel, stride):
    """Scatter-add window rows back onto a padded input (the adjoint of im2col).

    Parameters
    ----------
    dcols : ndarray of shape (N*OH*OW, KH*KW*C)
        Gradient with respect to every entry of ``im2col(xp, kernel, stride)``.
    padded_shape : tuple (N, HP, WP, C)
        Shape of the padded input the windows were taken from.

    Returns
    -------
    dxp : ndarray of shape (N, HP, WP, C)
        Each input position receives the sum over every window it fell in.

    Notes
    -----
    The convolution layer does not call this. For stride 1 it computes the
    same gradient as a convolution of the padded dy with the flipped kernel;
    for other strides it fuses this scatter with the product ``dy @ w2`` one
    kernel offset at a time, which keeps the pieces in cache (both in
    `convlearn.nn.channels_last.conv2d_backward`). This plain version is the
    definition they are tested against.
    """
    N, HP, WP, C = padded_shape
    (KH, KW), (sh, sw) = kernel, stride
    OH = (HP - KH) // sh + 1
    OW = (WP - KW) // sw + 1
    dxp = np.zeros(padded_shape, dtype=dcols.dtype)
    d = dcols.reshape(N, OH, OW, KH, KW, C)
    # Overlapping windows share input positions, so the scatter must add.
    for i in range(KH):
        for j in range(KW):
            dxp[:, i : i + sh * OH : sh, j : j + sw * OW : sw, :] += d[:, :, :, i, j, :]
    return dxp
