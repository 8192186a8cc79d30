"""Tests for convlearn.viz: the colours and geometry of each figure, measured in
its pixels, byte-for-byte determinism, atomic saving and every argument check."""

import os

import numpy as np
import pytest
from PIL import Image, ImageFont

from convlearn import viz
from convlearn.viz import _canvas


def pixels(image):
    return np.asarray(image).astype(int)


def boxes(image):
    """Inner (x, y, w, h) of every rectangle outlined in _canvas.INK, largest first."""
    ink = (np.asarray(image) == _canvas.INK).all(axis=-1)
    H, W = ink.shape
    right = np.zeros((H, W + 1), dtype=int)  # run of ink from each pixel rightwards
    down = np.zeros((H + 1, W), dtype=int)  # and downwards
    for x in range(W - 1, -1, -1):
        right[:, x] = ink[:, x] * (right[:, x + 1] + 1)
    for y in range(H - 1, -1, -1):
        down[y] = ink[y] * (down[y + 1] + 1)
    found = set()
    for y, x in zip(*np.nonzero((right[:, :W] >= 3) & (down[:H] >= 3))):
        w, h = right[y, x], down[y, x]
        if right[y + h - 1, x] >= w and down[y, x + w - 1] >= h:  # closed rectangle
            found.add((int(x) + 1, int(y) + 1, int(w) - 2, int(h) - 2))
    return sorted(found, key=lambda b: -b[2] * b[3])


def box(image, w, h):
    """(x, y) of the one rectangle of inner size w x h outlined in _canvas.INK."""
    (found,) = [b[:2] for b in boxes(image) if b[2:] == (w, h)]
    return found


def near(pixel, colour, tol=40):
    return np.abs(np.asarray(pixel, dtype=int) - colour).sum(axis=-1) <= tol


def red_ish(p):
    return p[0] > 90 and p[0] > p[1] + 60 and p[0] > p[2] + 40


def blue_ish(p):
    return p[2] > 90 and p[2] > p[0] + 60 and p[2] > p[1] + 30


def white_ish(p):
    return min(p) >= 240


# ---------------------------------------------------------------- heatmap


def test_heatmap_cell_colours_vmax_red_vmin_blue_centre_white_nan_grey():
    m = np.array([[1.0, -1.0, 0.0], [np.nan, 5.0, -0.5]])  # 5 is clipped to vmax
    image = viz.heatmap(m, cell=20, title="t", xlabel="x", ylabel="y")
    x0, y0 = box(image, 60, 40)
    a = pixels(image)
    cell = {
        (r, c): a[y0 + 20 * r + 10, x0 + 20 * c + 10]
        for r in range(2)
        for c in range(3)
    }
    assert red_ish(cell[0, 0]) and blue_ish(cell[0, 1]) and white_ish(cell[0, 2])
    assert tuple(cell[1, 0]) == viz.NAN_GREY == (160, 160, 160)  # as documented
    assert tuple(cell[1, 1]) == tuple(cell[0, 0])
    # -0.5: a lighter blue than -1
    assert blue_ish(cell[1, 2]) and cell[1, 2][2] > cell[0, 1][2]
    # every pixel of a cell has its colour
    block = a[y0 : y0 + 20, x0 : x0 + 20]
    assert (block == cell[0, 0]).all()


def test_heatmap_centre_is_the_middle_of_vmin_vmax():
    image = viz.heatmap(np.array([[2.0, 3.0, 4.0]]), vmin=2.0, vmax=4.0, cell=10)
    x0, y0 = box(image, 30, 10)
    a = pixels(image)
    row = [a[y0 + 5, x0 + 10 * c + 5] for c in range(3)]
    assert blue_ish(row[0]) and white_ish(row[1]) and red_ish(row[2])


def test_heatmap_block_lines_are_dark_at_the_boundaries():
    image = viz.heatmap(np.zeros((4, 4)), cell=10, x_blocks=[2], y_blocks=[1])
    x0, y0 = box(image, 40, 40)
    ink = (pixels(image) == _canvas.INK).all(axis=-1)
    assert ink[y0 : y0 + 40, x0 + 20].all() and ink[y0 : y0 + 40, x0 + 19].all()
    assert ink[y0 + 10, x0 : x0 + 40].all() and ink[y0 + 9, x0 : x0 + 40].all()
    column = ink[y0 : y0 + 40, x0 + 25]  # inside a block: only the row line crosses it
    assert np.flatnonzero(column).tolist() == [9, 10]
    assert white_ish(pixels(image)[y0 + 25, x0 + 5])


def test_heatmap_colour_bar_runs_from_red_at_the_top_to_blue_at_the_bottom():
    image = viz.heatmap(np.zeros((3, 3)), cell=100)
    x, y = box(image, 16, 300)  # as tall as the map
    a = pixels(image)
    assert red_ish(a[y, x + 8]) and blue_ish(a[y + 299, x + 8])
    assert white_ish(a[y + 150, x + 8])


def test_heatmap_shows_a_nan_swatch_only_when_there_is_nan():
    def swatches(m):
        return [b for b in boxes(viz.heatmap(m, cell=60)) if b[2:] == (16, 16)]

    assert swatches(np.zeros((3, 3))) == []
    ((x, y, _, _),) = swatches(np.array([[0.0, np.nan], [1.0, 0.0]]))
    image = viz.heatmap(np.array([[0.0, np.nan], [1.0, 0.0]]), cell=60)
    assert tuple(pixels(image)[y + 8, x + 8]) == viz.NAN_GREY


@pytest.mark.parametrize(
    "shape, side",
    [
        ((64, 64), (512, 512)),
        ((512, 512), (512, 512)),
        ((5, 300), (300, 5)),
        ((3, 2), (340, 510)),
    ],
)
def test_heatmap_default_cell_keeps_the_map_between_256_and_512_px(shape, side):
    box(viz.heatmap(np.zeros(shape)), *side)


def test_nice_ticks_are_round():
    def labels(lo, hi, target=5):
        return [s for _, s in _canvas._nice_ticks(lo, hi, target)]

    assert labels(-1, 1, 4) == ["-1.0", "-0.5", "0.0", "0.5", "1.0"]
    assert labels(-0.05, 1.05) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
    assert labels(-1.26, 64.26) == ["0", "10", "20", "30", "40", "50", "60"]
    assert labels(0.0312, 0.0356) == ["0.032", "0.033", "0.034", "0.035"]
    assert labels(-340, 1270) == ["0", "500", "1000"]


# ---------------------------------------------------------------- curves


def palette_mask(image, i, tol=40):
    return near(pixels(image), viz.PALETTE[i], tol)


def test_curves_draw_each_series_in_its_colour_with_a_legend():
    series = {"semi": np.linspace(1, 0.2, 64), "bipartite": np.linspace(0.9, 0.1, 64)}
    image = viz.curves(series, title="conv1", xlabel="unit", ylabel="correlation")
    assert 500 < image.width < 1000 and 350 < image.height < 700
    x0, y0, w, h = boxes(image)[0]
    assert (w, h) == (480, 320)
    for i in range(2):
        exact = (pixels(image) == viz.PALETTE[i]).all(axis=-1)
        assert exact[y0 : y0 + h, x0 : x0 + w].sum() > 300  # the line, in the plot
        assert exact[y0 : y0 + 60, x0 + w + 10 :].sum() > 20  # its legend swatch
    legend = pixels(image)[y0 : y0 + 60, x0 + w + 45 :]
    assert (legend.min(axis=-1) < 128).sum() > 50  # legend text
    below = pixels(image)[y0 + h + 5 :, x0 : x0 + w]
    assert (below.min(axis=-1) < 128).sum() > 100  # tick labels and xlabel


def test_curves_ylim_places_a_value_at_its_height():
    image = viz.curves({"half": np.full(20, 0.5)}, ylim=(0.0, 1.0))
    x0, y0, w, h = boxes(image)[0]
    rows = np.nonzero(palette_mask(image, 0, tol=0)[y0 : y0 + h, x0 : x0 + w])[0]
    assert abs(rows.mean() - (h - 1) / 2) < 1.5


def test_curves_break_at_nan_and_accept_explicit_x_and_different_lengths():
    y = np.full(21, 0.5)
    y[10] = np.nan
    image = viz.curves({"gap": y, "xy": (np.array([0.0, 20.0]), np.array([0.0, 1.0]))})
    x0, y0, w, h = boxes(image)[0]
    xlim = (-0.4, 20.4)  # the data's x range plus 2% each side
    gap = palette_mask(image, 0)[y0 : y0 + h, x0 : x0 + w]
    at = [round(float(_canvas._to_px(i, xlim, w))) for i in (5, 10)]
    assert gap[:, at[0]].any() and not gap[:, at[1] - 3 : at[1] + 4].any()
    assert palette_mask(image, 1)[y0 : y0 + h, x0 : x0 + w].sum() > 300


def test_curves_markers_draw_dots_and_a_lone_point_is_visible():
    y = np.array([0.1, 0.9, 0.2, 0.8])
    plain, dotted = viz.curves({"a": y}), viz.curves({"a": y}, markers=True)
    assert palette_mask(dotted, 0).sum() > palette_mask(plain, 0).sum() + 20
    lone = viz.curves({"a": np.array([np.nan, 0.5, np.nan])})
    x0, y0, w, h = boxes(lone)[0]
    assert palette_mask(lone, 0)[y0 : y0 + h, x0 : x0 + w].sum() >= 9


def test_figures_are_deterministic():
    rng = np.random.default_rng(0)
    make = [
        lambda: viz.curves({"a": rng.uniform(size=30)}, markers=True),
        lambda: viz.heatmap(rng.uniform(-1, 1, (9, 9)), x_blocks=[4]),
        lambda: viz.bars(["a", "b"], {"s": rng.uniform(size=2)}),
    ]
    for f in make:
        state = rng.bit_generator.state
        first = f().tobytes()
        rng.bit_generator.state = state
        assert f().tobytes() == first


# ---------------------------------------------------------------- bars


def test_bars_a_half_value_reaches_half_the_plot_height():
    image = viz.bars(["conv1"], {"s": [0.5]}, ylim=(0.0, 1.0), value_labels=False)
    x0, y0, w, h = boxes(image)[0]
    assert h == 320
    bar = palette_mask(image, 0, tol=0)[y0 : y0 + h, x0 : x0 + w]
    heights = bar.sum(axis=0)
    assert abs(heights.max() - h / 2) <= 2
    assert bar[h - 1].any() and not bar[: h // 2 - 2].any()  # grows from the bottom


def test_bars_groups_nan_legend_and_value_labels():
    series = {"semi": [0.7, np.nan, 0.5], "bipartite": [0.6, 0.4, -0.2]}
    image = viz.bars(["conv1", "conv2", "conv3"], series, title="mean", ylabel="r")
    x0, y0, w, h = boxes(image)[0]
    semi = palette_mask(image, 0, tol=0)[y0 : y0 + h, x0 : x0 + w]
    third = w // 3
    assert semi[:, :third].any() and not semi[:, third : 2 * third].any()  # NaN: no bar
    assert semi[:, 2 * third :].any()
    bip = palette_mask(image, 1, tol=0)[y0 : y0 + h, x0 : x0 + w]
    cols = np.nonzero(bip[:, 2 * third :].any(axis=0))[0] + 2 * third
    rows = np.nonzero(bip[:, cols].any(axis=1))[0]
    ink = (pixels(image)[y0 : y0 + h, x0 : x0 + w] == _canvas.INK).all(axis=-1)
    (zero,) = np.nonzero(ink.all(axis=1))  # the zero line, across the plot
    assert rows.min() >= zero - 1 and rows.max() > zero + 10  # hangs below zero
    # value labels: dark text just above the first bar
    cols0 = np.nonzero(semi[:, :third].any(axis=0))[0]
    top = np.nonzero(semi[:, cols0].any(axis=1))[0].min()
    text = pixels(image)[y0 + top - 18 : y0 + top, x0 + cols0.min() : x0 + cols0.max()]
    assert (text.min(axis=-1) < 128).sum() > 10
    legend = (pixels(image)[:, x0 + w + 10 :] == viz.PALETTE[1]).all(axis=-1)
    assert legend.sum() >= 100  # a 13 x 13 square


# ---------------------------------------------------------------- image grids


def count(image, colour):
    return int((pixels(image) == colour).all(axis=-1).sum())


def test_filter_grid_normalises_all_filters_by_one_maximum():
    w = np.zeros((4, 3, 3, 3))
    w[0, 0] = 2.0  # +max in red
    w[1, 0] = 1.0  # half of max in red
    w[2, 2] = -2.0  # -max in blue
    image = viz.filter_grid(w, scale=10)
    assert count(image, (255, 128, 128)) == 900  # 3x3 weights of 10x10 px
    assert count(image, (191, 128, 128)) == 900  # 127.5 + 127.5 / 2, not full red
    assert count(image, (128, 128, 0)) == 900
    assert count(image, (128, 128, 128)) == 900  # zero weights: grey
    zeros = viz.filter_grid(np.zeros((2, 3, 3, 3)), scale=4)
    assert count(zeros, (128, 128, 128)) == 2 * 12 * 12  # all zero: grey, no 0/0


def test_filter_grid_default_scale_gap_columns_and_labels():
    w = np.zeros((3, 3, 5, 5))
    w[0, 0], w[1, 1], w[2, 2] = 1.0, 1.0, 1.0
    image = viz.filter_grid(w, columns=2)
    reds = np.argwhere((pixels(image) == (255, 128, 128)).all(axis=-1))
    greens = np.argwhere((pixels(image) == (128, 255, 128)).all(axis=-1))
    blues = np.argwhere((pixels(image) == (128, 128, 255)).all(axis=-1))
    assert len(reds) == 45 * 45  # 5x5 weights at 9 px: about 44 px a tile
    assert greens[:, 1].min() - reds[:, 1].max() == 3  # a 2 px gap
    assert blues[:, 0].min() > reds[:, 0].max()  # the third filter starts a new row
    labelled = viz.filter_grid(w, columns=2, labels=["r=0.93", "2", "3"], title="conv1")
    assert labelled.height > image.height + 20
    reds = np.argwhere((pixels(labelled) == (255, 128, 128)).all(axis=-1))
    under = pixels(labelled)[reds[:, 0].max() + 1 : reds[:, 0].max() + 20]
    assert (under.min(axis=-1) < 128).sum() > 10  # the label's text


def test_image_grid_reproduces_a_patch_exactly():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 3, 5, 7), dtype=np.uint8)
    image = viz.image_grid(images, columns=2, scale=3, labels=list("abcd"))
    a = pixels(image)
    for k in range(4):
        tile = images[k].transpose(1, 2, 0).repeat(3, axis=0).repeat(3, axis=1)
        hits = [
            (y, x)
            for y, x in np.argwhere((a == tile[0, 0]).all(axis=-1))
            if a[y : y + 15, x : x + 21].shape == tile.shape
            and (a[y : y + 15, x : x + 21] == tile).all()
        ]
        assert len(hits) == 1


def test_side_by_side_top_aligns_panels_on_white():
    red = Image.new("RGB", (40, 30), (255, 0, 0))
    blue = Image.new("RGB", (20, 60), (0, 0, 255))
    image = viz.side_by_side(
        [red, blue], titles=["net 1, unit 5", "net 2, unit 17"], title="r"
    )
    r = np.argwhere((pixels(image) == (255, 0, 0)).all(axis=-1))
    b = np.argwhere((pixels(image) == (0, 0, 255)).all(axis=-1))
    assert len(r) == 1200 and len(b) == 1200
    assert r[:, 0].min() == b[:, 0].min() and r[:, 1].max() < b[:, 1].min()
    below = pixels(image)[
        r[:, 0].max() + 1 : b[:, 0].max(), r[:, 1].min() : r[:, 1].max()
    ]
    assert (below == 255).all()
    untitled = viz.side_by_side([red, blue])
    assert untitled.height < image.height


# ---------------------------------------------------------------- save


def test_save_round_trips_creates_folders_and_leaves_no_temporary(tmp_path):
    image = viz.heatmap(np.array([[0.5, np.nan], [-1.0, 1.0]]), title="t")
    path = tmp_path / "a" / "b" / "fig.png"
    viz.save(image, path)
    with Image.open(path) as back:
        assert back.format == "PNG"
        assert (np.asarray(back.convert("RGB")) == np.asarray(image)).all()
    assert os.listdir(path.parent) == ["fig.png"]
    first = path.read_bytes()
    viz.save(image, str(path))
    assert path.read_bytes() == first


def test_save_with_a_palette_is_smaller_and_close(tmp_path):
    rng = np.random.default_rng(0)
    c = np.corrcoef(rng.standard_normal((128, 400)))
    image = viz.heatmap(c, x_blocks=[64], y_blocks=[64])
    viz.save(image, tmp_path / "rgb.png")
    viz.save(image, tmp_path / "p.png", colors=256)
    with Image.open(tmp_path / "p.png") as back:
        assert back.mode == "P"
        diff = np.abs(np.asarray(back.convert("RGB"), int) - np.asarray(image, int))
    assert diff.max() <= 6  # no banding: every pixel within a few levels
    assert (tmp_path / "p.png").stat().st_size < 0.6 * (
        tmp_path / "rgb.png"
    ).stat().st_size


@pytest.mark.parametrize("colors", [1, 257, 2.5, True, "256"])
def test_save_bad_colors(tmp_path, colors):
    with pytest.raises(ValueError, match="colors must be an integer in 2..256"):
        viz.save(Image.new("RGB", (4, 4)), tmp_path / "x.png", colors=colors)


def test_a_failed_save_leaves_neither_the_file_nor_a_temporary(tmp_path):
    with pytest.raises(OSError, match="CMYK"):
        viz.save(Image.new("CMYK", (4, 4)), tmp_path / "fig.png")  # PNG has no CMYK
    assert os.listdir(tmp_path) == []


def test_the_bitmap_font_fallback_draws_every_figure(monkeypatch):
    bitmap = getattr(ImageFont, "load_default_imagefont", None)
    if bitmap is None:
        pytest.skip("this Pillow has no load_default_imagefont")
    monkeypatch.setattr(_canvas, "_font", lambda px: bitmap())
    figures = [
        viz.heatmap(np.eye(4), title="t", xlabel="x", ylabel="y", x_blocks=[2]),
        viz.curves({"a": np.arange(5.0)}, title="t", xlabel="x", ylabel="y"),
        viz.bars(["a"], {"s": [1.0]}, title="t", ylabel="y"),
        viz.filter_grid(np.ones((2, 3, 3, 3)), labels=["a", "b"], title="t"),
        viz.side_by_side([Image.new("RGB", (5, 5))], titles=["p"], title="t"),
    ]
    for image in figures:
        assert (pixels(image).min(axis=-1) < 100).sum() > 20


# ---------------------------------------------------------------- argument checks

M = np.zeros((2, 3))
W = np.zeros((2, 3, 3, 3))
U8 = np.zeros((2, 3, 4, 4), dtype=np.uint8)
PNG = Image.new("RGB", (4, 4))

BAD = [
    (
        lambda: viz.heatmap(np.zeros(3)),
        ValueError,
        r"matrix must be 2-D \(R, C\), got shape \(3,\)",
    ),
    (
        lambda: viz.heatmap(np.zeros((0, 3))),
        ValueError,
        r"matrix must not be empty, got shape \(0, 3\)",
    ),
    (
        lambda: viz.heatmap([["a"]]),
        TypeError,
        "matrix must hold real numbers, got dtype <U1",
    ),
    (
        lambda: viz.heatmap([[0, np.inf]]),
        ValueError,
        r"matrix must be finite or NaN, got inf at index \(0, 1\)",
    ),
    (
        lambda: viz.heatmap(M, vmin=1, vmax=1),
        ValueError,
        "vmin must be less than vmax, got vmin=1, vmax=1",
    ),
    (
        lambda: viz.heatmap(M, vmax=np.nan),
        ValueError,
        "vmax must be a finite number, got nan",
    ),
    (lambda: viz.heatmap(M, cell=0), ValueError, "cell must be an integer >= 1, got 0"),
    (
        lambda: viz.heatmap(M, x_blocks=[5]),
        ValueError,
        r"x_blocks must hold integers in \[0, C=3\], got 5",
    ),
    (
        lambda: viz.heatmap(M, y_blocks=[1.5]),
        ValueError,
        r"y_blocks must hold integers in \[0, R=2\], got 1.5",
    ),
    (lambda: viz.heatmap(M, title=3), TypeError, "title must be a str, got int"),
    (lambda: viz.curves([1, 2]), TypeError, "series must be a dict"),
    (lambda: viz.curves({}), ValueError, "series must not be empty"),
    (
        lambda: viz.curves({1: [0.0]}),
        TypeError,
        r"series labels \(keys\) must be str, got 1",
    ),
    (
        lambda: viz.curves({"a": np.zeros((2, 2))}),
        ValueError,
        r"series\['a'\] must be 1-D .*got shape \(2, 2\)",
    ),
    (lambda: viz.curves({"a": []}), ValueError, r"series\['a'\] must not be empty"),
    (
        lambda: viz.curves({"a": [1, -np.inf]}),
        ValueError,
        r"series\['a'\] must be finite or NaN, got -inf",
    ),
    (
        lambda: viz.curves({"a": (np.arange(3), np.arange(4))}),
        ValueError,
        r"x and y must have one length, got \(3,\), \(4,\)",
    ),
    (
        lambda: viz.curves({"a": [1.0]}, ylim=(1, 0)),
        ValueError,
        r"ylim must be None or \(lo, hi\).*got \(1, 0\)",
    ),
    (
        lambda: viz.curves({"a": [1.0]}, ylim=(0, np.nan)),
        ValueError,
        "ylim must be None or",
    ),
    (
        lambda: viz.curves({"a": [1.0]}, xlabel=None),
        TypeError,
        "xlabel must be a str, got NoneType",
    ),
    (
        lambda: viz.bars([], {"s": []}),
        ValueError,
        "categories must be a non-empty list of str, got",
    ),
    (
        lambda: viz.bars(["a", 2], {"s": [1, 2]}),
        TypeError,
        r"categories\[1\] must be a str, got int",
    ),
    (
        lambda: viz.bars(["a", "b"], {"s": [1.0]}),
        ValueError,
        r"series\['s'\] must have shape \(2,\), one value per category, got \(1,\)",
    ),
    (
        lambda: viz.bars(["a"], {"s": [np.inf]}),
        ValueError,
        r"series\['s'\] must be finite or NaN",
    ),
    (
        lambda: viz.bars(["a"], {"s": [1.0]}, ylim=(0, 0)),
        ValueError,
        "ylim must be None or",
    ),
    (
        lambda: viz.filter_grid(np.zeros((2, 3, 3))),
        ValueError,
        r"weights must be 4-D \(F, 3, KH, KW\), got shape \(2, 3, 3\)",
    ),
    (
        lambda: viz.filter_grid(np.zeros((2, 1, 3, 3))),
        ValueError,
        r"weights must have 3 \(RGB\) input channels, got shape \(2, 1, 3, 3\)",
    ),
    (
        lambda: viz.filter_grid(np.full((1, 3, 1, 1), np.nan)),
        ValueError,
        r"weights must be finite, got nan at index \(0, 0, 0, 0\)",
    ),
    (
        lambda: viz.filter_grid(W, columns=0),
        ValueError,
        "columns must be an integer >= 1, got 0",
    ),
    (
        lambda: viz.filter_grid(W, scale=1.5),
        ValueError,
        "scale must be an integer >= 1, got 1.5",
    ),
    (
        lambda: viz.filter_grid(W, labels=["a"]),
        ValueError,
        r"labels must have one str per filter \(2\), got 1",
    ),
    (
        lambda: viz.filter_grid(W, labels=[1, 2]),
        TypeError,
        r"labels\[0\] must be a str, got int",
    ),
    (
        lambda: viz.image_grid(U8.astype(float)),
        TypeError,
        "images must be a uint8 numpy array, got float64",
    ),
    (
        lambda: viz.image_grid([[1]]),
        TypeError,
        "images must be a uint8 numpy array, got list",
    ),
    (
        lambda: viz.image_grid(U8[:, :1]),
        ValueError,
        r"images must have shape \(K, 3, h, w\), got \(2, 1, 4, 4\)",
    ),
    (
        lambda: viz.image_grid(U8[:0]),
        ValueError,
        r"images must not be empty, got shape \(0, 3, 4, 4\)",
    ),
    (
        lambda: viz.image_grid(U8, scale=0),
        ValueError,
        "scale must be an integer >= 1, got 0",
    ),
    (
        lambda: viz.image_grid(U8, columns=-1),
        ValueError,
        "columns must be an integer >= 1, got -1",
    ),
    (
        lambda: viz.image_grid(U8, labels=["a", "b", "c"]),
        ValueError,
        r"labels must have one str per image \(2\), got 3",
    ),
    (
        lambda: viz.side_by_side([]),
        ValueError,
        r"panels must be a non-empty list of PIL images, got \[\]",
    ),
    (
        lambda: viz.side_by_side([np.zeros((2, 2, 3))]),
        TypeError,
        r"panels\[0\] must be a PIL image, got ndarray",
    ),
    (
        lambda: viz.side_by_side([PNG], titles=["a", "b"]),
        ValueError,
        r"titles must have one str per panel \(1\), got 2",
    ),
    (
        lambda: viz.save(np.zeros((2, 2, 3)), "x.png"),
        TypeError,
        "image must be a PIL image, got ndarray",
    ),
]


@pytest.mark.parametrize("call, error, match", BAD)
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
