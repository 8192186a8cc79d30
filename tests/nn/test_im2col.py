"""im2col / col2im against their definitions, on channels-last padded input.

Oracles: a direct loop that reads each window out of the padded input, the
adjoint identity <im2col(x), d> = <x, col2im(d)>, and coverage counts worked
out by loops.
"""

import numpy as np
import pytest

from convlearn.nn.im2col import (
    col2im,
    im2col,
    output_size,
    pad_channels_last,
    window_view,
)


def _rng(seed):
    return np.random.default_rng(seed)


def _im2col_loop(xp, kernel, stride):
    """Row (n*OH + i)*OW + j is the window at (i*sh, j*sw) of image n, flattened (KH, KW, C)."""
    N, HP, WP, C = xp.shape
    (KH, KW), (sh, sw) = kernel, stride
    OH, OW = (HP - KH) // sh + 1, (WP - KW) // sw + 1
    cols = np.empty((N * OH * OW, KH * KW * C), xp.dtype)
    for n in range(N):
        for i in range(OH):
            for j in range(OW):
                window = xp[
                    n, i * sh : i * sh + KH, j * sw : j * sw + KW, :
                ]  # (KH, KW, C)
                cols[(n * OH + i) * OW + j] = window.reshape(-1)
    return cols


def _coverage_loop(padded_shape, kernel, stride):
    """How many windows each padded position falls in: col2im of all ones."""
    N, HP, WP, C = padded_shape
    (KH, KW), (sh, sw) = kernel, stride
    count = np.zeros(padded_shape)
    for i in range((HP - KH) // sh + 1):
        for j in range((WP - KW) // sw + 1):
            count[:, i * sh : i * sh + KH, j * sw : j * sw + KW, :] += 1
    return count


# (N, HP, WP, C), (KH, KW), (sh, sw)
CASES = [
    ((1, 5, 5, 1), (3, 3), (1, 1)),
    ((2, 7, 6, 3), (3, 2), (2, 1)),  # non-square kernel and stride
    ((1, 8, 9, 2), (2, 3), (3, 3)),  # stride 3: the floor drops a last row/column
    ((2, 6, 7, 4), (1, 1), (2, 3)),  # 1x1 kernel: a strided subsample
    ((1, 4, 3, 2), (4, 3), (1, 1)),  # one window, the whole input
    ((3, 9, 8, 1), (2, 2), (3, 4)),  # stride > kernel: positions in no window
    ((1, 1, 1, 5), (1, 1), (1, 1)),
]
IDS = [f"xp{c[0]}-k{c[1]}-s{c[2]}" for c in CASES]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride", CASES, ids=IDS)
def test_im2col_matches_loop_definition(shape, kernel, stride, dtype):
    xp = _rng(0).standard_normal(shape).astype(dtype)
    before = xp.copy()
    cols = im2col(xp, kernel, stride)
    expected = _im2col_loop(xp, kernel, stride)
    assert cols.dtype == dtype
    assert cols.shape == expected.shape
    np.testing.assert_array_equal(cols, expected)
    np.testing.assert_array_equal(xp, before)


def test_im2col_row_layout_by_hand():
    # one image, 3x3, two channels: value = 10*row + col, channel 1 negated
    plane = np.array([[0, 1, 2], [10, 11, 12], [20, 21, 22]], float)
    xp = np.stack([plane, -plane], axis=-1)[None]  # (1, 3, 3, 2)
    cols = im2col(xp, (2, 2), (1, 1))
    # row 1 is the window at (0, 1); entries (KH, KW, C): (0,0,c0), (0,0,c1), (0,1,c0), ...
    np.testing.assert_array_equal(cols[1], [1, -1, 2, -2, 11, -11, 12, -12])
    # row 2 is the window at (1, 0)
    np.testing.assert_array_equal(cols[2], [10, -10, 11, -11, 20, -20, 21, -21])
    assert cols.shape == (4, 8)


@pytest.mark.parametrize("shape, kernel, stride", CASES[:4], ids=IDS[:4])
def test_im2col_of_a_non_contiguous_view(shape, kernel, stride):
    # the engine hands im2col an NCHW array transposed to NHWC, a strided view
    N, HP, WP, C = shape
    nchw = _rng(1).standard_normal((N, C, HP, WP))
    view = nchw.transpose(0, 2, 3, 1)
    assert not view.flags.c_contiguous or C == 1
    np.testing.assert_array_equal(
        im2col(view, kernel, stride),
        _im2col_loop(np.ascontiguousarray(view), kernel, stride),
    )


def test_im2col_fills_and_returns_the_out_buffer():
    rng = _rng(2)
    shape, kernel, stride = CASES[1]
    N, HP, WP, C = shape
    OH, OW = (
        output_size(HP, kernel[0], stride[0], 0),
        output_size(WP, kernel[1], stride[1], 0),
    )
    out = np.full((N * OH * OW, kernel[0] * kernel[1] * C), np.nan)
    for _ in range(2):  # reuse: the second call overwrites every entry
        xp = rng.standard_normal(shape)
        got = im2col(xp, kernel, stride, out=out)
        assert got is out
        np.testing.assert_array_equal(out, _im2col_loop(xp, kernel, stride))


def _random_case(rng):
    N, C = (int(v) for v in rng.integers(1, 4, 2))
    KH, KW = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    HP, WP = int(rng.integers(KH, KH + 8)), int(rng.integers(KW, KW + 8))
    return (N, HP, WP, C), (KH, KW), (sh, sw)


RANDOM_CASES = CASES + [_random_case(_rng(100 + i)) for i in range(25)]
RANDOM_IDS = IDS + [f"random{i}" for i in range(25)]


@pytest.mark.parametrize("shape, kernel, stride", RANDOM_CASES, ids=RANDOM_IDS)
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride):
    rng = _rng(3)
    xp = rng.standard_normal(shape)
    cols = im2col(xp, kernel, stride)
    d = rng.standard_normal(cols.shape)
    back = col2im(d, shape, kernel, stride)
    assert back.shape == shape
    assert back.dtype == np.float64
    lhs, rhs = np.vdot(cols, d), np.vdot(xp, back)
    scale = (
        np.abs(cols).ravel() @ np.abs(d).ravel()
    )  # bounds the round-off of either sum
    assert abs(lhs - rhs) <= 1e-12 * scale


@pytest.mark.parametrize("shape, kernel, stride", RANDOM_CASES, ids=RANDOM_IDS)
def test_col2im_of_ones_counts_windows(shape, kernel, stride):
    N, HP, WP, C = shape
    OH, OW = (
        output_size(HP, kernel[0], stride[0], 0),
        output_size(WP, kernel[1], stride[1], 0),
    )
    ones = np.ones((N * OH * OW, kernel[0] * kernel[1] * C))
    np.testing.assert_array_equal(
        col2im(ones, shape, kernel, stride), _coverage_loop(shape, kernel, stride)
    )


def test_col2im_adds_overlapping_windows_by_hand():
    # 1-D in effect: width 5, kernel 3, stride 1 -> windows at 0, 1, 2
    d = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [100.0, 200.0, 300.0]])
    back = col2im(d, (1, 1, 5, 1), (1, 3), (1, 1))
    np.testing.assert_array_equal(
        back.ravel(), [1, 2 + 10, 3 + 20 + 100, 30 + 200, 300]
    )


def test_col2im_keeps_float32():
    shape, kernel, stride = CASES[1]
    xp = _rng(4).standard_normal(shape).astype(np.float32)
    d = im2col(xp, kernel, stride)
    assert col2im(d, shape, kernel, stride).dtype == np.float32


@pytest.mark.parametrize(
    "size, kernel, stride, pad, expected",
    [
        (7, 3, 1, 0, 5),
        (7, 3, 2, 1, 4),
        (8, 3, 3, 0, 2),  # floor: the third window would need 9 positions
        (32, 5, 1, 2, 32),  # "same" padding
        (5, 5, 1, 0, 1),  # the kernel covers the input
        (13, 3, 2, 0, 6),  # overlapping pool 3/2
        (2, 4, 3, 1, 1),
        (1, 1, 1, 0, 1),
        (10, 1, 4, 0, 3),  # positions 0, 4, 8
        (6, 2, 2, 0, 3),
        (4, 5, 1, 0, 0),  # the window does not fit: no output
    ],
)
def test_output_size(size, kernel, stride, pad, expected):
    assert output_size(size, kernel, stride, pad) == expected


@pytest.mark.parametrize(
    "size, kernel, stride, pad",
    [(9, 3, 2, 1), (11, 4, 3, 2), (6, 6, 1, 0), (7, 2, 5, 1)],
)
def test_output_size_counts_the_window_view(size, kernel, stride, pad):
    xp = np.zeros((1, size + 2 * pad, 3, 1))
    assert window_view(xp, (kernel, 1), (stride, 1)).shape[1] == output_size(
        size, kernel, stride, pad
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "pad, fill", [((1, 1), 0.0), ((2, 0), -np.inf), ((0, 3), 7.5), ((0, 0), 1.0)]
)
def test_pad_channels_last(pad, fill, dtype):
    x = _rng(5).standard_normal((2, 3, 4, 2)).astype(dtype)
    before = x.copy()
    xp = pad_channels_last(x, pad, fill)
    expected = np.pad(
        x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1]), (0, 0)), constant_values=fill
    )
    assert xp.dtype == dtype
    np.testing.assert_array_equal(xp, expected)
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(xp, x)


@pytest.mark.parametrize("fill", [0.0, -np.inf])
def test_pad_channels_last_reuses_out(fill):
    rng = _rng(6)
    pad = (1, 2)
    out = np.full((2, 5, 7, 3), fill)
    for _ in range(3):  # each call rewrites the interior; the border keeps its fill
        x = rng.standard_normal((2, 3, 3, 3))
        got = pad_channels_last(x, pad, fill, out=out)
        assert got is out
        np.testing.assert_array_equal(out[:, 1:4, 2:5, :], x)
        expected = np.pad(x, ((0, 0), (1, 1), (2, 2), (0, 0)), constant_values=fill)
        np.testing.assert_array_equal(out, expected)


def test_pad_channels_last_out_writes_only_the_interior():
    # documented: the border of a reused buffer is left as it is
    out = np.full((1, 4, 4, 1), 9.0)
    pad_channels_last(np.zeros((1, 2, 2, 1)), (1, 1), 0.0, out=out)
    assert out[0, 0, 0, 0] == 9.0 and out[0, 3, 3, 0] == 9.0
    np.testing.assert_array_equal(out[0, 1:3, 1:3, 0], np.zeros((2, 2)))


def test_window_view_is_read_only_and_shares_memory():
    xp = np.arange(2 * 5 * 6 * 3, dtype=float).reshape(2, 5, 6, 3)
    win = window_view(xp, (3, 2), (2, 3))
    assert win.shape == (2, 2, 2, 3, 2, 3)
    assert not win.flags.writeable
    assert np.shares_memory(win, xp)
    np.testing.assert_array_equal(win[1, 1, 0], xp[1, 2:5, 0:2, :])
    np.testing.assert_array_equal(win[0, 0, 1], xp[0, 0:3, 3:5, :])
    with pytest.raises(ValueError):
        win[0, 0, 0, 0, 0, 0] = 1.0
