"""Figures of the study, drawn with Pillow alone: heatmaps, curves, bars, image grids.

Every function returns an RGB ``PIL.Image.Image`` on a white background and
``save`` writes it as an optimised PNG. The same input gives the same
pixels, byte for byte.

The package: ``charts`` (heatmap, curves, bars), ``grids`` (filter_grid,
image_grid, side_by_side, save) and ``_canvas``, the text, axes, legends
and argument checks they share (the fonts are described there).
"""

from ._canvas import NAN_GREY, PALETTE
from .charts import bars, curves, heatmap
from .grids import filter_grid, image_grid, save, side_by_side

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
