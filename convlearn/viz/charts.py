"""Charts: heatmaps with a colour bar, line curves, grouped bars."""

import math
import numbers

import numpy as np
from PIL import Image, ImageDraw

from .._checks import check_positive_int
from ._canvas import (
    INK,
    LABEL_PX,
    NAN_GREY,
    PALETTE,
    SMALL_PX,
    SS,
    TICK_LEN,
    TICK_PX,
    _check_lim,
    _check_series,
    _check_str,
    _check_strs,
    _draw_text,
    _draw_ticks,
    _drop_crowded,
    _frame,
    _grid_area,
    _legend,
    _limits,
    _nice_ticks,
    _paste_vertical,
    _real_array,
    _rgb,
    _text_size,
    _to_px,
    _with_legend,
)

__all__ = ["heatmap", "curves", "bars"]


# ColorBrewer RdBu (11 classes) from vmin, dark blue, to vmax, dark red, with
# f7f7f7 at the centre; ColorBrewer spaced these anchors evenly in lightness,
# so interpolating between neighbours keeps the map symmetric about 0.
_RDBU = np.array(
    _rgb(
        "053061 2166ac 4393c3 92c5de d1e5f0 f7f7f7 fddbc7 f4a582 d6604d b2182b 67001f"
    ),
    dtype=np.float64,
)


def _check_blocks(name, blocks, n, axis):
    """Block starts: integers in [0, n] -> a sorted list of int."""
    out = np.asarray(blocks).ravel().tolist()
    for b in out:
        if not isinstance(b, int) or isinstance(b, bool) or not 0 <= b <= n:
            raise ValueError(f"{name} must hold integers in [0, {axis}={n}], got {b!r}")
    return sorted(set(out))


def _diverging(values, vmin, vmax):
    """Values -> (..., 3) uint8: vmin blue, centre near-white, vmax red; NaN grey."""
    t = np.clip((values - vmin) / (vmax - vmin), 0.0, 1.0) * (len(_RDBU) - 1)
    nan = np.isnan(t)
    t[nan] = 0.0
    i = np.minimum(t.astype(np.int64), len(_RDBU) - 2)  # t >= 0, so this floors
    f = (t - i)[..., None]
    rgb = np.round(_RDBU[i] * (1.0 - f) + _RDBU[i + 1] * f).astype(np.uint8)
    rgb[nan] = NAN_GREY
    return rgb


def heatmap(
    matrix,
    *,
    title="",
    xlabel="",
    ylabel="",
    vmin=-1.0,
    vmax=1.0,
    x_blocks=(),
    y_blocks=(),
    colorbar_label="correlation",
    cell=None,
) -> Image.Image:
    """A matrix drawn as coloured cells beside a colour bar: e.g. a correlation matrix.

    Parameters
    ----------
    matrix : array_like of shape (R, C), real
        Row 0 at the top. NaN cells (dead units) are drawn in the neutral
        grey ``NAN_GREY`` (160, 160, 160), shown by a "NaN" swatch under the
        colour bar when there are any; +-inf is refused.
    title, xlabel, ylabel : str
        The title above the map, the label under it (columns) and left of it (rows).
    vmin, vmax : float
        The colour range, vmin < vmax; values outside are clipped to it.
        ColorBrewer's diverging RdBu map: dark blue at vmin, near-white
        (247, 247, 247) at (vmin + vmax) / 2, dark red at vmax.
    x_blocks, y_blocks : sequence of int
        Column / row indices where a new block starts (e.g. [32] for two
        nets of 32 units, or cluster boundaries): a thin dark line (1 px, 2
        px when ``cell`` >= 4) across the map there, and an index tick where
        its label fits. The ends, 0 and C (or R), are always ticks.
    colorbar_label : str
        Written beside the colour bar, whose ticks are round values.
    cell : int, optional
        Pixels per entry; default ``max(1, 512 // max(R, C))``, so the map
        side is 256-512 px up to 512 entries (1 px per entry beyond).

    Returns
    -------
    PIL.Image.Image, mode RGB
    """
    m = _real_array("matrix", matrix, 2, "(R, C)", allow_nan=True)
    R, C = m.shape
    _check_str(title=title, xlabel=xlabel, ylabel=ylabel, colorbar_label=colorbar_label)
    for name, v in (("vmin", vmin), ("vmax", vmax)):
        if not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if not vmin < vmax:
        raise ValueError(f"vmin must be less than vmax, got vmin={vmin}, vmax={vmax}")
    if cell is None:
        cell = max(1, 512 // max(R, C))
    cell = check_positive_int("cell", cell)
    xb = _check_blocks("x_blocks", x_blocks, C, "C")
    yb = _check_blocks("y_blocks", y_blocks, R, "R")

    rgb = np.repeat(np.repeat(_diverging(m, vmin, vmax), cell, axis=0), cell, axis=1)
    # a 2 px line covers the last pixel of one block and the first of the next
    lw = 1 if cell < 4 else 2
    for b in xb:
        rgb[:, max(0, b * cell - lw // 2) : b * cell - lw // 2 + lw] = INK
    for b in yb:
        rgb[max(0, b * cell - lw // 2) : b * cell - lw // 2 + lw, :] = INK
    # index ticks: the ends first, then block starts where their labels fit
    tick_h = _text_size("", TICK_PX)[1]
    xt = [(b * cell, str(b)) for b in [0, C] + xb]
    xt = _drop_crowded(xt, lambda s: _text_size(s, TICK_PX)[0])
    yt = _drop_crowded([(b * cell, str(b)) for b in [0, R] + yb], lambda s: tick_h)

    has_nan = bool(np.isnan(m).any())
    bar_h = max(R * cell, 160)
    bar_ticks = [
        ((vmax - v) / (vmax - vmin) * (bar_h - 1), s)
        for v, s in _nice_ticks(vmin, vmax, 4)
    ]
    bar_tick_w = max(_text_size(s, TICK_PX)[0] for _, s in bar_ticks)
    bar_label_x = 16 + TICK_LEN + 6 + bar_tick_w
    label_h = _text_size("", LABEL_PX)[1]
    side = (bar_label_x + (10 + label_h if colorbar_label else 0), bar_h + 30 * has_nan)
    image, draw, (x, y) = _frame(
        Image.fromarray(rgb), xt, yt, side, title=title, xlabel=xlabel, ylabel=ylabel
    )
    # row r of the bar shows the value at its centre, vmax at the top
    bar_values = vmax - (np.arange(bar_h) + 0.5) / bar_h * (vmax - vmin)
    bar = np.repeat(_diverging(bar_values[:, None], vmin, vmax), 16, axis=1)
    image.paste(Image.fromarray(bar), (x, y))
    draw.rectangle([x - 1, y - 1, x + 16, y + bar_h], outline=INK)
    _draw_ticks(draw, bar_ticks, "right", x + 16, y)
    label_x = x + bar_label_x + 10 + label_h / 2
    _paste_vertical(image, label_x, y + bar_h / 2, colorbar_label, LABEL_PX)
    if has_nan:
        y += bar_h + 12
        draw.rectangle([x - 1, y - 1, x + 16, y + 16], fill=NAN_GREY, outline=INK)
        _draw_text(draw, x + 16 + 6, y + 8, "NaN", TICK_PX, "lm")
    return image


def _xy(label, value):
    """One series -> (x, y), float64 arrays of one length (x = 0..n-1 by default)."""
    name = f"series[{label!r}]"
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and all(np.ndim(v) == 1 for v in value)
    ):
        x = _real_array(f"{name}[0] (x)", value[0], 1, "(n,)", allow_nan=True)
        y = _real_array(f"{name}[1] (y)", value[1], 1, "(n,)", allow_nan=True)
        if x.shape != y.shape:
            raise ValueError(
                f"{name}: x and y must have one length, got {x.shape}, {y.shape}"
            )
        return x, y
    y = _real_array(name, value, 1, "(n,), or a tuple (x, y)", allow_nan=True)
    return np.arange(y.size, dtype=np.float64), y


def curves(
    series, *, title="", xlabel="", ylabel="", ylim=None, markers=False
) -> Image.Image:
    """Line plots of several series on shared axes, with a legend.

    Parameters
    ----------
    series : dict of str -> array_like of shape (n,), or -> tuple (x, y)
        One line per entry, in the colours of ``PALETTE`` in order. A value
        is y, drawn at x = 0..n-1, or a tuple of two 1-D arrays (x, y) of
        one length. Series may differ in length. A point whose x or y is NaN
        is skipped and the line breaks there; +-inf is refused.
    title, xlabel, ylabel : str
    ylim : (float, float), optional
        The y range; default the data's range plus 5% each side. Lines are
        clipped to the plot area.
    markers : bool
        Draw a dot at every point as well (a lone point always gets one).

    Returns
    -------
    PIL.Image.Image, mode RGB
    """
    _check_series(series)
    data = [(label, *_xy(label, v)) for label, v in series.items()]
    _check_str(title=title, xlabel=xlabel, ylabel=ylabel)
    xlim = _limits(np.concatenate([x[np.isfinite(y)] for _, x, y in data]), 0.02)
    ylim = _check_lim("ylim", ylim) or _limits(
        np.concatenate([d[2] for d in data]), 0.05
    )

    W, H = 480, 320
    yticks = [(_to_px(v, ylim, H, flip=True), s) for v, s in _nice_ticks(*ylim)]
    xticks = [(_to_px(v, xlim, W), s) for v, s in _nice_ticks(*xlim)]
    # drawn SS times larger, then box-filtered: Pillow's lines are not antialiased
    area = _grid_area(W, H, yticks, SS)
    draw = ImageDraw.Draw(area)
    r = 2.5 * SS
    for i, (_, x, y) in enumerate(data):
        colour = PALETTE[i % len(PALETTE)]
        # far-off points are clamped so Pillow's integer coordinates cannot overflow
        px = np.clip(_to_px(x, xlim, W), -10 * W, 11 * W) * SS + (SS - 1) / 2
        py = np.clip(_to_px(y, ylim, H, flip=True), -10 * H, 11 * H) * SS + (SS - 1) / 2
        ok = np.isfinite(px) & np.isfinite(py)
        # runs of consecutive finite points: a NaN ends one line and starts the next
        for run in np.split(np.arange(x.size), np.flatnonzero(~ok) + 1):
            points = list(zip(px[run[ok[run]]].tolist(), py[run[ok[run]]].tolist()))
            if len(points) > 1:
                draw.line(points, fill=colour, width=2 * SS, joint="curve")
            if markers or len(points) == 1:  # a lone point would otherwise vanish
                for cx, cy in points:
                    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    area = area.resize((W, H), Image.Resampling.BOX)
    legend = _legend(
        [(d[0], PALETTE[i % len(PALETTE)]) for i, d in enumerate(data)], "line"
    )
    return _with_legend(
        area, xticks, yticks, legend, title=title, xlabel=xlabel, ylabel=ylabel
    )


def bars(
    categories, series, *, title="", ylabel="", ylim=None, value_labels=True
) -> Image.Image:
    """A grouped bar chart: a group per category, a bar per series in each group.

    Parameters
    ----------
    categories : list of str
        Group names written under the groups (e.g. layer names).
    series : dict of str -> array_like of shape (len(categories),)
        A bar per category for each entry, in the colours of ``PALETTE``.
        Bars grow from 0; NaN means no bar; +-inf is refused.
    title, ylabel : str
    ylim : (float, float), optional
        The y range; default from min(0, data) to max(0, data), widened away
        from 0 to leave room for the value labels. Bars are clipped to it.
    value_labels : bool
        Write each bar's value (2 decimals) beyond its end, kept inside the plot.

    Returns
    -------
    PIL.Image.Image, mode RGB
    """
    if not isinstance(categories, (list, tuple)) or not categories:
        raise ValueError(
            f"categories must be a non-empty list of str, got {categories!r}"
        )
    _check_strs("categories", categories)
    _check_series(series)
    n = len(categories)
    data = {
        k: _real_array(f"series[{k!r}]", v, 1, "(len(categories),)", True)
        for k, v in series.items()
    }
    for label, v in data.items():
        if v.size != n:
            raise ValueError(
                f"series[{label!r}] must have shape ({n},), one value per category, "
                f"got {v.shape}"
            )
    _check_str(title=title, ylabel=ylabel)
    # bars grow from 0, so 0 stays in the range
    values = np.concatenate([*data.values(), [0.0]])
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = (hi - lo) * (0.12 if value_labels else 0.05)  # room for the value labels
    auto = (lo - pad * (lo < 0), hi + pad * (hi > 0)) if hi > lo else (0.0, 1.0)
    ylim = _check_lim("ylim", ylim) or auto

    bar_w = max(18, _text_size("-0.00", SMALL_PX)[0] + 4 if value_labels else 0)
    group_w = max(
        len(data) * bar_w + 16, max(_text_size(c, TICK_PX)[0] for c in categories) + 12
    )
    W, H = max(320, n * group_w), 320
    yticks = [(_to_px(v, ylim, H, flip=True), s) for v, s in _nice_ticks(*ylim)]
    area = _grid_area(W, H, yticks)
    draw = ImageDraw.Draw(area)
    zero = float(np.clip(_to_px(0.0, ylim, H, flip=True), 0, H - 1))
    small_h = _text_size("", SMALL_PX)[1]
    for j, v in enumerate(data.values()):
        for i, value in enumerate(v.tolist()):
            if math.isnan(value):
                continue
            x0 = i * W / n + (W / n - len(data) * bar_w) / 2 + j * bar_w
            end = float(np.clip(_to_px(value, ylim, H, flip=True), -1, H))
            y0, y1 = min(zero, end), max(zero, end)
            box = [round(x0) + 1, round(y0), round(x0 + bar_w) - 2, round(y1)]
            draw.rectangle(box, fill=PALETTE[j % len(PALETTE)])
            if value_labels:  # beyond the bar's end, inside the area
                y = max(y0 - 3 - small_h, 0) if value >= 0 else min(y1 + 3, H - small_h)
                _draw_text(draw, x0 + bar_w / 2, y, f"{value:.2f}", SMALL_PX, "mt")
    if ylim[0] < 0 < ylim[1]:
        draw.line([(0, round(zero)), (W, round(zero))], fill=INK)
    xticks = [((i + 0.5) * W / n, c) for i, c in enumerate(categories)]
    legend = _legend(
        [(k, PALETTE[j % len(PALETTE)]) for j, k in enumerate(data)], "box"
    )
    return _with_legend(area, xticks, yticks, legend, title=title, ylabel=ylabel)
