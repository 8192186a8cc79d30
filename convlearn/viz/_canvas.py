"""The drawing kit shared by every figure: fonts and text, axes and ticks, legends, checks.

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


def _rgb(hexes):
    return tuple(tuple(bytes.fromhex(h)) for h in hexes.split())


WHITE, INK, GRID = (255, 255, 255), (33, 33, 33), (226, 226, 226)


NAN_GREY = (160, 160, 160)  # heatmap cells holding NaN; no colour of the map is grey


# d3's category10 ("Tableau 10"): series colours in order, repeating after ten
PALETTE = _rgb("1f77b4 ff7f0e 2ca02c d62728 9467bd 8c564b e377c2 7f7f7f bcbd22 17becf")


SMALL_PX, TICK_PX, LABEL_PX, TITLE_PX = 13, 14, 15, 18  # font sizes in pixels


PAD, TICK_LEN, SS = 12, 5, 2  # SS: curves are drawn at SS x size, then reduced


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
