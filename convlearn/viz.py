"""Figures of the study, drawn with Pillow alone: heatmaps, curves, bars, image grids.

Every function returns an RGB ``PIL.Image.Image`` on a white background and
``save`` writes it as an optimised PNG. The same input gives the same
pixels, byte for byte.

Text uses Pillow's built-in font (Aileron) rendered by FreeType at a given
pixel size, ``ImageFont.load_default(size=...)`` (Pillow >= 10.1 built with
FreeType, as the wheels are): 14 px ticks, 15 px labels, 18 px titles.
Without FreeType the fixed bitmap font is used instead: smaller, but nothing
fails.
"""

import functools
import math
import numbers

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from ._checks import check_positive_int
from ._files import atomic_write

__all__ = [
    "NAN_GREY",
    "PALETTE",
    "bars",
    "curves",
    "filter_grid",
    "heatmap",
    "image_grid",
    "save",
    "side_by_side",
]


def _rgb(hexes):
    return tuple(tuple(bytes.fromhex(h)) for h in hexes.split())


WHITE, INK, GRID = (255, 255, 255), (33, 33, 33), (226, 226, 226)
NAN_GREY = (160, 160, 160)  # heatmap cells holding NaN; no colour of the map is grey
# d3's category10 ("Tableau 10"): series colours in order, repeating after ten
PALETTE = _rgb("1f77b4 ff7f0e 2ca02c d62728 9467bd 8c564b e377c2 7f7f7f bcbd22 17becf")
# ColorBrewer RdBu (11 classes) from vmin, dark blue, to vmax, dark red, with
# f7f7f7 at the centre; ColorBrewer spaced these anchors evenly in lightness,
# so interpolating between neighbours keeps the map symmetric about 0.
_RDBU = np.array(
    _rgb(
        "053061 2166ac 4393c3 92c5de d1e5f0 f7f7f7 fddbc7 f4a582 d6604d b2182b 67001f"
    ),
    dtype=np.float64,
)
SMALL_PX, TICK_PX, LABEL_PX, TITLE_PX = 13, 14, 15, 18  # font sizes in pixels
PAD, TICK_LEN, SS = 12, 5, 2  # SS: curves are drawn at SS x size, then reduced

# ---------------------------------------------------------------- text


@functools.cache
def _font(px):
    """The built-in font at ``px`` pixels; the bitmap font without FreeType."""
    if features.check("freetype2"):
        return ImageFont.load_default(size=px)
    return ImageFont.load_default()


def _text_size(text, px):
    """(width, height) of ``text``: its ink width, one line height for all."""
    _, top, _, bottom = _font(px).getbbox("0Ag")
    left, _, right, _ = _font(px).getbbox(text) if text else (0, 0, 0, 0)
    return right - left, bottom - top


def _draw_text(draw, x, y, text, px, anchor="lt", fill=INK):
    """Draw ``text`` with the point ``anchor`` of its box at (x, y).

    anchor: horizontal l/m/r then vertical t/m/b, as Pillow's anchors, but on
    the box of ``_text_size``, so a row of labels shares one baseline.
    """
    if not text:
        return
    font = _font(px)
    w, h = _text_size(text, px)
    dx = {"l": 0, "m": w / 2, "r": w}[anchor[0]] + font.getbbox(text)[0]
    dy = {"t": 0, "m": h / 2, "b": h}[anchor[1]] + font.getbbox("0Ag")[1]
    draw.text((round(x - dx), round(y - dy)), text, font=font, fill=fill)


def _paste_vertical(image, x, y, text, px):
    """Paste ``text`` reading bottom to top, the middle of its box at (x, y)."""
    if not text:
        return
    w, h = _text_size(text, px)
    mask = Image.new("L", (w, h), 0)
    _draw_text(ImageDraw.Draw(mask), 0, 0, text, px, fill=255)
    mask = mask.transpose(Image.Transpose.ROTATE_90)  # now h wide, w tall
    y = min(max(y, w / 2), image.height - w / 2)  # slid along, never cut off
    image.paste(INK, (round(x - h / 2), round(y - w / 2)), mask)


def _centre_x(x, text, px, width):
    """x, moved just enough for ``text`` centred there to keep PAD from both edges."""
    half = _text_size(text, px)[0] / 2
    return min(max(x, PAD + half), width - PAD - half)


# ---------------------------------------------------------------- ticks and frames


def _nice_ticks(lo, hi, target=5):
    """[(value, label)] of round values in [lo, hi], about ``target`` intervals apart.

    The step is 1, 2 or 5 times a power of ten: the one giving the number of
    intervals closest to ``target`` (the larger step on a tie).
    """
    k0 = math.floor(math.log10((hi - lo) / target))
    steps = [(m, k) for k in (k0 + 1, k0, k0 - 1) for m in (5, 2, 1)]
    m, k = min(steps, key=lambda s: abs((hi - lo) / (s[0] * 10.0 ** s[1]) - target))
    step = m * 10.0**k
    decimals = max(0, -k)  # from the exponent, not log10(step), to dodge float noise
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [(i * step, f"{i * step:.{decimals}f}") for i in range(first, last + 1)]


def _to_px(value, lim, length, flip=False):
    """Data value(s) -> pixels along ``length`` pixels (flip: y grows down)."""
    t = (np.asarray(value, dtype=np.float64) - lim[0]) / (lim[1] - lim[0])
    return (1.0 - t if flip else t) * (length - 1)


def _limits(values, margin):
    """(lo, hi) spanning the finite ``values``, widened by ``margin`` of the span."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    pad = (hi - lo) * margin if hi > lo else max(abs(lo) * 0.1, 0.5)
    return lo - pad, hi + pad


def _drop_crowded(ticks, extent):
    """Keep the ticks, in priority order, whose labels touch no kept one."""
    kept = []
    for p, s in ticks:
        if all(abs(p - q) >= (extent(s) + extent(t)) / 2 + 6 for q, t in kept):
            kept.append((p, s))
    return sorted(kept)


def _draw_ticks(draw, ticks, side, edge, origin):
    """Tick marks and labels outside a frame; ticks are (pixel from origin, label).

    side "bottom": x positions under the line y = edge; "left" or "right": y
    positions beside the line x = edge.
    """
    for p, label in ticks:
        p = round(origin + p)
        if side == "bottom":
            draw.line([(p, edge), (p, edge + TICK_LEN)], fill=INK)
            _draw_text(draw, p, edge + TICK_LEN + 4, label, TICK_PX, "mt")
        else:
            s = -1 if side == "left" else 1
            draw.line([(edge, p), (edge + s * TICK_LEN, p)], fill=INK)
            anchor = "rm" if side == "left" else "lm"
            _draw_text(draw, edge + s * (TICK_LEN + 4), p, label, TICK_PX, anchor)


def _frame(content, xticks, yticks, side, *, title, xlabel="", ylabel=""):
    """Frame ``content`` with ticks, axis labels, a title; a ``side`` box at its right.

    xticks, yticks: [(pixel within content, label)]; side: (width, height)
    of what the caller draws at the right (a legend, a colour bar). Returns
    the figure, its ImageDraw and the top-left (x, y) of the side box.
    """
    W, H = content.size
    tick_h, label_h = _text_size("", TICK_PX)[1], _text_size("", LABEL_PX)[1]
    title_w, title_h = _text_size(title, TITLE_PX)
    ytick_w = max((_text_size(s, TICK_PX)[0] for _, s in yticks), default=0)
    # the last x label may stick out past the frame by half its width
    over = max([_text_size(s, TICK_PX)[0] / 2 - (W - p) for p, s in xticks] + [0])
    left = PAD + (label_h + 10 if ylabel else 0) + ytick_w + TICK_LEN + 6
    top = PAD + (title_h + 12 if title else tick_h // 2 + 2)
    below = TICK_LEN + 4 + tick_h + (10 + label_h if xlabel else 0)
    side_x = left + W + math.ceil(over) + 20
    xlabel_w = _text_size(xlabel, LABEL_PX)[0]
    width = max(side_x + side[0] + PAD, title_w + 2 * PAD, xlabel_w + 2 * PAD)
    image = Image.new("RGB", (width, top + max(H + below, side[1]) + PAD), WHITE)
    image.paste(content, (left, top))
    draw = ImageDraw.Draw(image)
    draw.rectangle([left - 1, top - 1, left + W, top + H], outline=INK)
    _draw_ticks(draw, yticks, "left", left - 1, top)
    _draw_ticks(draw, xticks, "bottom", top + H, left)
    title_x = _centre_x(left + W / 2, title, TITLE_PX, width)
    _draw_text(draw, title_x, PAD, title, TITLE_PX, "mt")
    xlabel_x = _centre_x(left + W / 2, xlabel, LABEL_PX, width)
    _draw_text(draw, xlabel_x, top + H + below, xlabel, LABEL_PX, "mb")
    _paste_vertical(image, PAD + label_h / 2, top + H / 2, ylabel, LABEL_PX)
    return image, draw, (side_x, top)


def _legend(entries, swatch):
    """A legend: per (label, colour) a short line (swatch "line") or a square."""
    row = _text_size("", LABEL_PX)[1] + 8
    width = 30 + max(_text_size(label, LABEL_PX)[0] for label, _ in entries)
    image = Image.new("RGB", (width, row * len(entries)), WHITE)
    draw = ImageDraw.Draw(image)
    for i, (label, colour) in enumerate(entries):
        y = i * row + row // 2
        if swatch == "line":
            draw.line([(0, y), (22, y)], fill=colour, width=3)
        else:
            draw.rectangle([5, y - 6, 17, y + 6], fill=colour)
        _draw_text(draw, 30, y, label, LABEL_PX, "lm")
    return image


def _with_legend(area, xticks, yticks, legend, **labels):
    """_frame with a legend as its side box: the figure of curves and bars."""
    image, _, xy = _frame(area, xticks, yticks, legend.size, **labels)
    image.paste(legend, xy)
    return image


def _grid_area(width, height, yticks, scale=1):
    """A white plot area, gridlines at the y ticks, drawn ``scale`` times larger."""
    area = Image.new("RGB", (width * scale, height * scale), WHITE)
    draw = ImageDraw.Draw(area)
    for p, _ in yticks:  # whole output rows, so that reducing the area keeps them sharp
        y = round(p) * scale
        draw.rectangle([0, y, width * scale, y + scale - 1], fill=GRID)
    return area


# ---------------------------------------------------------------- checks


def _real_array(name, x, ndim, layout, allow_nan):
    """``x`` as a float64 array of ``ndim`` dims, not empty, finite (NaN if allowed)."""
    a = np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    a = a.astype(np.float64)
    bad = np.isinf(a) if allow_nan else ~np.isfinite(a)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        allowed = "finite or NaN" if allow_nan else "finite"
        raise ValueError(f"{name} must be {allowed}, got {a[at]} at index {at}")
    return a


def _check_str(**texts):
    """Each keyword's value must be a str."""
    for name, value in texts.items():
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {type(value).__name__}")


def _check_strs(name, values):
    """Every item of ``values`` must be a str."""
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(value).__name__}")


def _check_lim(name, lim):
    """None, or a pair of finite numbers lo < hi -> (float, float)."""
    if lim is None:
        return None
    ok = isinstance(lim, (tuple, list)) and len(lim) == 2
    ok = ok and all(isinstance(v, numbers.Real) and math.isfinite(v) for v in lim)
    if not ok or not lim[0] < lim[1]:
        raise ValueError(
            f"{name} must be None or (lo, hi), finite, lo < hi, got {lim!r}"
        )
    return float(lim[0]), float(lim[1])


def _check_labels(name, labels, n, what):
    """None, or n strings, one per ``what`` -> a list."""
    if labels is None:
        return None
    labels = list(labels)
    if len(labels) != n:
        raise ValueError(
            f"{name} must have one str per {what} ({n}), got {len(labels)}"
        )
    _check_strs(name, labels)
    return labels


def _check_series(series):
    if not isinstance(series, dict):
        kind = type(series).__name__
        raise TypeError(f"series must be a dict {{label: values}}, got {kind}")
    if not series:
        raise ValueError("series must not be empty, got {}")
    for label in series:
        if not isinstance(label, str):
            raise TypeError(f"series labels (keys) must be str, got {label!r}")


def _check_blocks(name, blocks, n, axis):
    """Block starts: integers in [0, n] -> a sorted list of int."""
    out = np.asarray(blocks).ravel().tolist()
    for b in out:
        if not isinstance(b, int) or isinstance(b, bool) or not 0 <= b <= n:
            raise ValueError(f"{name} must hold integers in [0, {axis}={n}], got {b!r}")
    return sorted(set(out))


# ---------------------------------------------------------------- heatmap


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


# ---------------------------------------------------------------- curves and bars


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


# ---------------------------------------------------------------- image grids


def _tile_grid(tiles, columns, gap, labels, title):
    """(K, h, w, 3) uint8 tiles in rows of ``columns``, labels under, a title above."""
    K, h, w, _ = tiles.shape
    columns = min(columns, K)
    rows = -(-K // columns)
    label_w = max(_text_size(s, SMALL_PX)[0] for s in labels) if labels else 0
    label_h = _text_size("", SMALL_PX)[1] + 6 if labels else 0
    col_w, row_h = max(w, label_w + 6), h + label_h
    grid_w = columns * col_w + (columns - 1) * gap
    width = max(grid_w, _text_size(title, TITLE_PX)[0]) + 2 * PAD
    top = PAD + (_text_size(title, TITLE_PX)[1] + 12 if title else 0)
    height = top + rows * row_h + (rows - 1) * gap + PAD
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    _draw_text(draw, width / 2, PAD, title, TITLE_PX, "mt")
    for k in range(K):
        r, c = divmod(k, columns)
        x = (width - grid_w) // 2 + c * (col_w + gap) + (col_w - w) // 2
        y = top + r * (row_h + gap)
        image.paste(Image.fromarray(tiles[k]), (x, y))
        if labels:
            _draw_text(draw, x + w / 2, y + h + 3, labels[k], SMALL_PX, "mt")
    return image


def filter_grid(
    weights, *, columns=8, scale=None, title="", labels=None
) -> Image.Image:
    """First-layer filters drawn as small RGB images, on one shared contrast scale.

    Each weight w becomes round(127.5 + 127.5 * w / max|w|) in its channel,
    max|w| taken over ALL the filters: grey (128) is 0, 255 is +max|w| and
    0 is -max|w|, so the contrast of two filters compares directly (a weak
    filter looks faint). All-zero weights give grey tiles.

    Parameters
    ----------
    weights : array_like of shape (F, 3, KH, KW), real and finite
        Conv1 weights; input channels 0, 1, 2 are drawn as red, green, blue.
    columns : int
        Tiles per row (F if fewer).
    scale : int, optional
        Pixels per weight; default ``max(1, round(44 / max(KH, KW)))``, tiles
        of about 44 px. Tiles are 2 px apart (more when labels are wider).
    title : str
    labels : list of F str, optional
        Short captions under the tiles, e.g. "r=0.93" or the unit index.

    Returns
    -------
    PIL.Image.Image, mode RGB
    """
    w = _real_array("weights", weights, 4, "(F, 3, KH, KW)", allow_nan=False)
    F, C, KH, KW = w.shape
    if C != 3:
        raise ValueError(
            f"weights must have 3 (RGB) input channels, got shape {w.shape}"
        )
    columns = check_positive_int("columns", columns)
    if scale is None:
        scale = max(1, round(44 / max(KH, KW)))
    scale = check_positive_int("scale", scale)
    _check_str(title=title)
    labels = _check_labels("labels", labels, F, "filter")
    peak = np.abs(w).max()
    u8 = np.round(127.5 + 127.5 * (w / peak if peak > 0 else w)).astype(np.uint8)
    tiles = u8.transpose(0, 2, 3, 1)  # (F, KH, KW, 3)
    tiles = np.repeat(np.repeat(tiles, scale, axis=1), scale, axis=2)
    return _tile_grid(tiles, columns, 2, labels, title)


def image_grid(images, *, columns=3, scale=3, title="", labels=None) -> Image.Image:
    """Image patches (e.g. a unit's top 9) in a grid, enlarged by pixel repetition.

    Parameters
    ----------
    images : ndarray of shape (K, 3, h, w), uint8
        RGB patches, all of one size (5x5 to 32x32 typically).
    columns : int
        Tiles per row (K if fewer).
    scale : int
        Each pixel becomes a scale x scale block (nearest neighbour: the
        pixels are reproduced exactly); tiles are 3 px apart.
    title : str
    labels : list of K str, optional
        Captions under the tiles.

    Returns
    -------
    PIL.Image.Image, mode RGB
    """
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        got = images.dtype if isinstance(images, np.ndarray) else type(images).__name__
        raise TypeError(f"images must be a uint8 numpy array, got {got}")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (K, 3, h, w), got {images.shape}")
    if images.size == 0:
        raise ValueError(f"images must not be empty, got shape {images.shape}")
    columns = check_positive_int("columns", columns)
    scale = check_positive_int("scale", scale)
    _check_str(title=title)
    labels = _check_labels("labels", labels, images.shape[0], "image")
    tiles = images.transpose(0, 2, 3, 1)  # (K, h, w, 3)
    tiles = np.ascontiguousarray(
        np.repeat(np.repeat(tiles, scale, axis=1), scale, axis=2)
    )
    return _tile_grid(tiles, columns, 3, labels, title)


def side_by_side(panels, *, titles=None, title="") -> Image.Image:
    """Images left to right, top-aligned, each under an optional caption.

    Parameters
    ----------
    panels : list of PIL.Image.Image
        E.g. the top-9 grid of a unit of net A and that of its matched unit
        of net B; converted to RGB. Shorter panels leave white below them.
    titles : list of str, optional
        A caption per panel, e.g. "net 1, unit 5".
    title : str
        Centred over everything, e.g. "r = 0.93".

    Returns
    -------
    PIL.Image.Image, mode RGB
    """
    if not isinstance(panels, (list, tuple)) or not panels:
        got = (
            repr(panels) if isinstance(panels, (list, tuple)) else type(panels).__name__
        )
        raise ValueError(f"panels must be a non-empty list of PIL images, got {got}")
    for i, p in enumerate(panels):
        if not isinstance(p, Image.Image):
            raise TypeError(f"panels[{i}] must be a PIL image, got {type(p).__name__}")
    titles = _check_labels("titles", titles, len(panels), "panel")
    _check_str(title=title)
    caption_h = _text_size("", LABEL_PX)[1] + 8 if titles else 0
    widths = [
        max(p.width, _text_size(titles[i], LABEL_PX)[0] if titles else 0)
        for i, p in enumerate(panels)
    ]
    row_w = sum(widths) + PAD * (len(panels) - 1)
    width = max(row_w, _text_size(title, TITLE_PX)[0]) + 2 * PAD
    top = PAD + (_text_size(title, TITLE_PX)[1] + 12 if title else 0)
    height = top + caption_h + max(p.height for p in panels) + PAD
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    _draw_text(draw, width / 2, PAD, title, TITLE_PX, "mt")
    x = (width - row_w) // 2
    for i, (p, w) in enumerate(zip(panels, widths)):
        if titles:
            _draw_text(draw, x + w / 2, top, titles[i], LABEL_PX, "mt")
        image.paste(p.convert("RGB"), (x + (w - p.width) // 2, top + caption_h))
        x += w + PAD
    return image


def save(image, path, colors=None) -> None:
    """Write ``image`` to ``path`` as an optimised PNG, atomically, creating folders.

    Parameters
    ----------
    image : PIL.Image.Image
    path : str or os.PathLike
        The target. The PNG is written to a temporary file beside it, then
        renamed onto it, so ``path`` never holds half a file.
    colors : int, optional
        Store at most this many colours (2..256), chosen by Pillow's maximum
        coverage quantizer: a palette PNG, about a third of the size of a
        noisy RGB heatmap. At 256 a heatmap's pixels move by at most a few
        levels of 255 (median cut, by contrast, bands the colour bar, whose
        rare colours it merges). None keeps RGB.
    """
    if not isinstance(image, Image.Image):
        raise TypeError(f"image must be a PIL image, got {type(image).__name__}")
    if colors is not None:
        if (
            isinstance(colors, bool)
            or not isinstance(colors, int)
            or not 2 <= colors <= 256
        ):
            raise ValueError(
                f"colors must be an integer in 2..256 or None, got {colors!r}"
            )
        image = image.convert("RGB").quantize(
            colors=colors, method=Image.Quantize.MAXCOVERAGE
        )
    with atomic_write(path, "wb") as f:
        image.save(f, format="PNG", optimize=True)
