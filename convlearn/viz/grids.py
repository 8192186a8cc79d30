"""Image grids: conv1 filters, image patches, panels side by side; saving a figure."""

import numpy as np
from PIL import Image, ImageDraw

from .._checks import check_positive_int
from .._files import atomic_write
from ._canvas import (
    LABEL_PX,
    PAD,
    SMALL_PX,
    TITLE_PX,
    WHITE,
    _check_labels,
    _check_str,
    _draw_text,
    _real_array,
    _text_size,
)

__all__ = ["filter_grid", "image_grid", "side_by_side", "save"]


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
