"""Tests for convlearn.datasets.folder: image folders as Datasets.

Tiny generated folders check pixels and labels, every colour-mode rule, EXIF
orientation, resizing and cropping, which files count, unreadable files and
the layout errors; then the cache (hits, invalidation, a corrupt cache file);
then a small symlinked slice of the real CIFAR-10 JPEGs, when present.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlearn.datasets import data_home, load_image_folder, load_image_folder_result
from convlearn.datasets.folder import IMAGE_EXTENSIONS

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    """Every test gets its own CONVLEARN_DATA, so no cache reaches the home folder."""
    home = tmp_path / "convlearn-data"
    monkeypatch.setenv("CONVLEARN_DATA", str(home))
    return home


class Recorder:
    """A reporter that keeps its lines."""

    def __init__(self):
        self.lines = []

    def info(self, message):
        self.lines.append(message)


def solid(colour, size=(32, 32), mode="RGB"):
    return Image.new(mode, size, colour)


def save(im, path, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, **kw)
    return path


def make_folder(root, layout):
    """layout: {"train/a/x.png": PIL image or bytes, ...} -> root."""
    for rel, content in layout.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content.save(path)
    return root


def two_class(root, extra=None):
    """A minimal valid folder, classes a and b, plus `extra` files."""
    layout = {
        "train/a/0.png": solid(RED),
        "train/a/1.png": solid(GREEN),
        "train/b/0.png": solid(BLUE),
        "test/a/0.png": solid(GREEN),
        "test/b/0.png": solid(RED),
    }
    layout.update(extra or {})
    return make_folder(root, layout)


def load_single(tmp_path, im, name="x.png", **save_kw):
    """Load a folder whose first training image is `im` saved as `name`; -> that image (3, H, W)."""
    root = two_class(tmp_path / "f")
    for old in (root / "train" / "a").iterdir():
        old.unlink()
    save(im, root / "train" / "a" / name, **save_kw)
    data = load_image_folder(root, cache=False)
    assert data.y_train[0] == 0 and len(data.y_train) == 2
    return data.x_train[0].astype(int)


def pixel(img, row, col):
    return tuple(int(v) for v in img[:, row, col])


# ---- pixels, labels, order -------------------------------------------------


def test_pixels_labels_and_order(tmp_path):
    root = make_folder(
        tmp_path / "f",
        {
            "train/cat/b.png": solid(GREEN),
            "train/cat/a.bmp": solid(RED),
            "train/cat/c.jpg": solid(BLUE),
            "train/ant/z.png": solid((10, 20, 30)),
            "test/ant/0.png": solid((40, 50, 60)),
            "test/cat/0.bmp": solid((70, 80, 90)),
        },
    )
    data = load_image_folder(root, cache=False)
    assert data.classes == ["ant", "cat"]
    assert data.x_train.shape == (4, 3, 32, 32) and data.x_train.dtype == np.uint8
    assert data.y_train.dtype == np.int64 and data.y_train.tolist() == [0, 1, 1, 1]
    assert data.y_test.tolist() == [0, 1]
    # class order, then file-name order: ant/z, cat/a (bmp), cat/b (png), cat/c (jpg)
    expected = [(10, 20, 30), RED, GREEN]
    for img, colour in zip(data.x_train[:3], expected):
        assert (img == np.array(colour, np.uint8)[:, None, None]).all()
    jpeg = data.x_train[3].astype(int)
    assert np.abs(jpeg - np.array(BLUE)[:, None, None]).max() <= 3
    assert (data.x_test[1] == np.array([70, 80, 90], np.uint8)[:, None, None]).all()


def test_size_option(tmp_path):
    data = load_image_folder(two_class(tmp_path / "f"), size=16, cache=False)
    assert data.x_train.shape == (3, 3, 16, 16) and data.x_test.shape == (2, 3, 16, 16)
    assert pixel(data.x_train[0], 8, 8) == RED


def test_pixels_are_exactly_what_pillow_decodes(tmp_path):
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    img = load_single(tmp_path, noise, name="noise.jpg", quality=75)
    decoded = np.asarray(
        Image.open(tmp_path / "f" / "train" / "a" / "noise.jpg").convert("RGB")
    )
    assert np.array_equal(img, decoded.transpose(2, 0, 1))


# ---- colour modes ----------------------------------------------------------


def over_white(c, a):
    return round(c * a / 255 + 255 * (1 - a / 255))


def palette_image(transparent):
    """32x32 P image: left half index 0 (red), right half index 1 (green)."""
    im = Image.new("P", (32, 32), 0)
    im.putpalette([*RED, *GREEN] + [0] * (3 * 254))
    im.paste(1, (16, 0, 32, 32))
    if transparent:
        im.info["transparency"] = 0
    return im


def i16(value):
    return Image.fromarray(np.full((32, 32), value, np.uint16))


def i32(value):
    return Image.fromarray(np.full((32, 32), value, np.int32))


def f32(value):
    return Image.fromarray(np.full((32, 32), value, np.float32))


def with_trns(im, colour):
    im.info["transparency"] = colour
    return im


# (case id, image, file name, expected RGB of pixel (row 0, col 0), tolerance)
MODE_CASES = [
    ("L", solid(77, mode="L"), "x.png", (77, 77, 77), 0),
    ("1-white", solid(1, mode="1"), "x.png", WHITE, 0),
    ("1-black", solid(0, mode="1"), "x.bmp", (0, 0, 0), 0),
    ("LA-opaque", solid((100, 255), mode="LA"), "x.png", (100, 100, 100), 0),
    ("LA-clear", solid((100, 0), mode="LA"), "x.png", WHITE, 0),
    ("LA-half", solid((0, 128), mode="LA"), "x.png", (over_white(0, 128),) * 3, 0),
    ("P", palette_image(False), "x.png", RED, 0),
    ("P-trns-png", palette_image(True), "x.png", WHITE, 0),
    ("P-trns-gif", palette_image(True), "x.gif", WHITE, 0),
    ("RGBA-opaque", solid((10, 20, 30, 255), mode="RGBA"), "x.png", (10, 20, 30), 0),
    ("RGBA-clear", solid((10, 20, 30, 0), mode="RGBA"), "x.png", WHITE, 0),
    (
        "RGBA-half",
        solid((200, 100, 0, 128), mode="RGBA"),
        "x.png",
        (over_white(200, 128), over_white(100, 128), over_white(0, 128)),
        0,
    ),
    ("RGB-trns", with_trns(solid((1, 2, 3)), (1, 2, 3)), "x.png", WHITE, 0),
    ("L-trns", with_trns(solid(7, mode="L"), 7), "x.png", WHITE, 0),
    ("CMYK-white-jpeg", solid((0, 0, 0, 0), mode="CMYK"), "x.jpg", WHITE, 2),
    ("CMYK-white-tiff", solid((0, 0, 0, 0), mode="CMYK"), "x.tif", WHITE, 0),
    ("CMYK-mix-tiff", solid((128, 0, 0, 128), mode="CMYK"), "x.tif", (63, 127, 127), 0),
    ("I;16-max", i16(65535), "x.png", WHITE, 0),
    ("I;16-high-byte", i16(100 * 256 + 255), "x.png", (100,) * 3, 0),
    ("I;16-8bit-as-16", i16(77 * 257), "x.tif", (77,) * 3, 0),
    ("I-16bit-range", i32(25600), "x.tif", (100,) * 3, 0),
    ("I-above-range", i32(70000), "x.tif", WHITE, 0),
    ("I-negative", i32(-5), "x.tif", (0, 0, 0), 0),
    ("F-0.2", f32(0.2), "x.tif", (51, 51, 51), 0),
    ("F-above-1", f32(1.5), "x.tif", WHITE, 0),
    ("F-negative", f32(-1.0), "x.tif", (0, 0, 0), 0),
]


@pytest.mark.parametrize(
    "case, im, name, expected, tol", MODE_CASES, ids=[c[0] for c in MODE_CASES]
)
def test_mode_to_rgb(tmp_path, case, im, name, expected, tol):
    img = load_single(tmp_path, im, name=name)
    assert np.abs(img[:, 0, 0] - np.array(expected)).max() <= tol, pixel(img, 0, 0)
    if case.startswith("P"):  # the right half is the opaque green index
        assert pixel(img, 0, 31) == GREEN


def test_saved_modes_are_the_modes_under_test(tmp_path):
    # guards the table above: Pillow must reopen each file in the mode it tests
    reopened = {}
    for case, im, name, _, _ in MODE_CASES:
        path = save(im, tmp_path / case / name)
        reopened[case] = Image.open(path).mode
    assert reopened["I;16-max"] == "I;16" and reopened["I-negative"] == "I"
    assert reopened["F-0.2"] == "F" and reopened["CMYK-white-jpeg"] == "CMYK"
    assert (
        reopened["LA-half"] == "LA"
        and reopened["P-trns-gif"] == "P"
        and reopened["1-white"] == "1"
    )


# ---- geometry --------------------------------------------------------------


def halves(size, first, second, vertical_split=True):
    """An image (W, H) = size, split into left/right (or top/bottom) halves of two colours."""
    W, H = size
    im = Image.new("RGB", size, first)
    im.paste(second, (W // 2, 0, W, H) if vertical_split else (0, H // 2, W, H))
    return im


@pytest.mark.parametrize("orientation, left, right", [(6, BLUE, RED), (8, RED, BLUE)])
def test_exif_orientation_is_applied(tmp_path, orientation, left, right):
    # stored: top half red, bottom half blue; 6 shows it turned 90 deg clockwise, 8 anticlockwise
    im = halves((32, 32), RED, BLUE, vertical_split=False)
    exif = Image.Exif()
    exif[0x0112] = orientation
    img = load_single(tmp_path, im, name="x.jpg", exif=exif.tobytes(), quality=95)
    for row in (2, 16, 29):
        assert np.abs(img[:, row, 4] - np.array(left)).max() <= 8
        assert np.abs(img[:, row, 27] - np.array(right)).max() <= 8


def test_without_exif_orientation_nothing_turns(tmp_path):
    img = load_single(
        tmp_path,
        halves((32, 32), RED, BLUE, vertical_split=False),
        name="x.jpg",
        quality=95,
    )
    assert np.abs(img[:, 4, 16] - np.array(RED)).max() <= 8
    assert np.abs(img[:, 27, 16] - np.array(BLUE)).max() <= 8


def test_wide_image_is_centre_cropped_without_resampling(tmp_path):
    # 64 x 32: the short side is already 32, so columns 16..47 are kept exactly
    img = load_single(tmp_path, halves((64, 32), RED, BLUE))
    assert img.shape == (3, 32, 32)
    assert (img[:, :, :16] == np.array(RED)[:, None, None]).all()
    assert (img[:, :, 16:] == np.array(BLUE)[:, None, None]).all()


def test_tall_image_is_centre_cropped(tmp_path):
    img = load_single(tmp_path, halves((32, 64), RED, BLUE, vertical_split=False))
    assert (img[:, :16] == np.array(RED)[:, None, None]).all()
    assert (img[:, 16:] == np.array(BLUE)[:, None, None]).all()


def test_large_image_is_resized_then_cropped(tmp_path):
    # 128 x 64 -> 64 x 32 (bicubic) -> columns 16..47; away from the edge the halves stay flat
    img = load_single(tmp_path, halves((128, 64), RED, BLUE))
    assert np.abs(img[:, :, :13] - np.array(RED)[:, None, None]).max() <= 1
    assert np.abs(img[:, :, 19:] - np.array(BLUE)[:, None, None]).max() <= 1
    assert 0 < img[0, 0, 16] < 255  # the boundary column is a blend: it was resampled


def test_mixed_sizes_all_come_back_square(tmp_path):
    sizes = [(16, 16), (40, 50), (32, 32), (100, 33), (7, 300)]
    extra = {
        f"train/a/m{i}.png": solid((30 * i, 100, 200), size=s)
        for i, s in enumerate(sizes)
    }
    data = load_image_folder(two_class(tmp_path / "f", extra), cache=False)
    assert data.x_train.shape == (2 + len(sizes) + 1, 3, 32, 32)
    for i in range(len(sizes)):
        img = data.x_train[2 + i].astype(int)  # after 0.png and 1.png
        assert np.abs(img - np.array([30 * i, 100, 200])[:, None, None]).max() <= 1


# ---- which files count -----------------------------------------------------


def test_non_image_and_hidden_files_are_ignored(tmp_path):
    extra = {
        "train/a/notes.txt": b"not an image",
        "train/a/.DS_Store": b"\0\0\0\1Bud1",
        "train/a/.hidden.png": solid(RED),
        "train/a/._0.png": b"AppleDouble",
        "train/a/Thumbs.db": b"junk",
        "train/a/nested/deep.png": solid(RED),
        "train/a/UPPER.JPG": solid(BLUE),
        "train/a/mixed.JpEg": solid(BLUE),
        "train/a/x.webp": solid(GREEN),
        "train/README.txt": b"about the data",
        "train/.ipynb_checkpoints/x.png": solid(RED),
        "test/.cache/x.png": solid(RED),
    }
    data = load_image_folder(two_class(tmp_path / "f", extra), cache=False)
    assert data.classes == ["a", "b"]
    # class a: 0.png 1.png UPPER.JPG mixed.JpEg x.webp (string order puts UPPER first)
    assert data.y_train.tolist() == [0, 0, 0, 0, 0, 1]
    assert data.x_test.shape[0] == 2
    assert set(IMAGE_EXTENSIONS) == {
        ".jpg",
        ".jpeg",
        ".png",
        ".bmp",
        ".gif",
        ".tif",
        ".tiff",
        ".webp",
    }


# ---- unreadable files ------------------------------------------------------


def jpeg_bytes(tmp_path):
    rng = np.random.default_rng(1)
    path = save(
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)),
        tmp_path / "src.jpg",
    )
    return path.read_bytes()


def png_bytes(tmp_path):
    rng = np.random.default_rng(2)
    path = save(
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)),
        tmp_path / "src.png",
    )
    return path.read_bytes()


BAD_FILES = {
    "garbage": lambda t: b"this is not a JPEG at all" * 10,
    "empty": lambda t: b"",
    "truncated-jpeg": lambda t: jpeg_bytes(t)[: len(jpeg_bytes(t)) // 2],
    "truncated-png": lambda t: png_bytes(t)[: len(png_bytes(t)) * 6 // 10],
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_unreadable_file_error_names_it(tmp_path, kind):
    root = two_class(tmp_path / "f", {"train/b/bad.jpg": BAD_FILES[kind](tmp_path)})
    with pytest.raises(
        ValueError, match=r"cannot decode image file .*train/b/bad\.jpg"
    ):
        load_image_folder(root, cache=False)


def test_skip_bad_skips_and_counts(tmp_path):
    extra = {
        "train/b/bad.jpg": BAD_FILES["truncated-jpeg"](tmp_path),
        "test/a/bad.png": b"\x89PNG junk",
    }
    root = two_class(tmp_path / "f", extra)
    rec = Recorder()
    result = load_image_folder_result(root, skip_bad=True, cache=False, reporter=rec)
    assert result.skipped == ("train/b/bad.jpg", "test/a/bad.png")
    data = result.dataset
    assert data.y_train.tolist() == [0, 0, 1] and data.y_test.tolist() == [0, 1]
    assert pixel(data.x_train[2], 0, 0) == BLUE and pixel(data.x_test[0], 0, 0) == GREEN
    assert any("skipped 2 unreadable" in line for line in rec.lines)
    # the plain function returns the same Dataset
    assert np.array_equal(
        load_image_folder(root, skip_bad=True, cache=False).x_train, data.x_train
    )


def test_unconvertible_mode_names_the_file(tmp_path, monkeypatch):
    from convlearn.datasets import folder

    def refuse(im):
        raise ValueError("conversion from LAB to RGB not supported")

    monkeypatch.setattr(folder, "_to_rgb", refuse)
    with pytest.raises(
        ValueError, match=r"cannot convert image file .*train/a/0\.png.*to RGB"
    ):
        load_image_folder(two_class(tmp_path / "f"), cache=False)


# ---- layout errors ---------------------------------------------------------


def test_missing_root(tmp_path):
    with pytest.raises(ValueError, match=r"root .*nowhere.* does not exist"):
        load_image_folder(tmp_path / "nowhere")


def test_root_is_a_file(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"root .*file.* is not a folder"):
        load_image_folder(tmp_path / "file")


def test_root_of_wrong_type():
    with pytest.raises(TypeError, match=r"root must be a path.*int"):
        load_image_folder(3)


@pytest.mark.parametrize("split", ["train", "test"])
def test_missing_split(tmp_path, split):
    root = make_folder(tmp_path / "f", {f"{split}/a/0.png": solid(RED)})
    other = "test" if split == "train" else "train"
    with pytest.raises(ValueError, match=rf"has no {other}/ folder"):
        load_image_folder(root)


def test_split_without_class_folders(tmp_path):
    root = make_folder(
        tmp_path / "f", {"train/loose.png": solid(RED), "test/a/0.png": solid(RED)}
    )
    with pytest.raises(ValueError, match=r"f/train' holds no class folders"):
        load_image_folder(root)


def test_single_class(tmp_path):
    root = make_folder(
        tmp_path / "f", {"train/only/0.png": solid(RED), "test/only/0.png": solid(RED)}
    )
    with pytest.raises(
        ValueError, match=r"single class folder 'only'; need at least 2"
    ):
        load_image_folder(root)


@pytest.mark.parametrize("where", ["train/b", "test/a"])
def test_class_without_images(tmp_path, where):
    root = two_class(tmp_path / "f")
    for f in (root / where).iterdir():
        f.unlink()
    (root / where / "notes.txt").write_text("no images here")
    with pytest.raises(
        ValueError, match=rf"class folder .*{where}' holds no image files"
    ):
        load_image_folder(root)


def test_class_missing_from_test(tmp_path):
    root = two_class(tmp_path / "f", {"train/c/0.png": solid(RED)})
    with pytest.raises(ValueError, match=r"test' lacks the class folder\(s\) \['c'\]"):
        load_image_folder(root)


def test_extra_class_in_test(tmp_path):
    root = two_class(tmp_path / "f", {"test/zebra/0.png": solid(RED)})
    with pytest.raises(
        ValueError,
        match=r"test' has class folder\(s\) \['zebra'\] that train/ does not",
    ):
        load_image_folder(root)


@pytest.mark.parametrize("size", [0, -1, 2.5, "32"])
def test_bad_size(tmp_path, size):
    with pytest.raises(ValueError, match=r"size must be an integer >= 1"):
        load_image_folder(two_class(tmp_path / "f"), size=size)


# ---- the cache -------------------------------------------------------------


def same(a, b):
    return all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("x_train", "y_train", "x_test", "y_test")
    ) and (a.classes == b.classes)


def cache_files(home):
    return sorted((home / "cache").glob("*.npz"))


def test_second_load_comes_from_the_cache(tmp_path, cache_home):
    root = two_class(tmp_path / "f")
    first = load_image_folder_result(root)
    assert not first.from_cache and cache_files(cache_home) == [first.cache_file]
    assert first.cache_file.parent == data_home() / "cache"
    rec = Recorder()
    second = load_image_folder_result(root, reporter=rec)
    assert second.from_cache and second.cache_file == first.cache_file
    assert same(first.dataset, second.dataset)
    assert same(second.dataset, load_image_folder(root, cache=False))
    assert any("from cache" in line for line in rec.lines)
    assert not list(cache_home.glob("cache/*.tmp"))  # the temporary file was renamed


def test_cache_false_writes_nothing(tmp_path, cache_home):
    result = load_image_folder_result(two_class(tmp_path / "f"), cache=False)
    assert result.cache_file is None and not cache_home.exists()


def test_touching_a_file_invalidates_the_cache(tmp_path, cache_home):
    root = two_class(tmp_path / "f")
    first = load_image_folder_result(root)
    path = root / "train" / "a" / "0.png"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    second = load_image_folder_result(root)
    assert not second.from_cache and second.cache_file != first.cache_file
    assert cache_files(cache_home) == [second.cache_file]  # the stale cache was removed
    assert same(first.dataset, second.dataset)


def test_changed_content_is_seen(tmp_path):
    root = two_class(tmp_path / "f")
    load_image_folder(root)
    solid(BLUE).save(root / "train" / "a" / "0.png")  # new mtime
    data = load_image_folder_result(root)
    assert not data.from_cache and pixel(data.dataset.x_train[0], 0, 0) == BLUE


def test_adding_a_file_invalidates_the_cache(tmp_path):
    root = two_class(tmp_path / "f")
    assert len(load_image_folder(root).y_train) == 3
    solid(WHITE).save(root / "train" / "b" / "1.png")
    result = load_image_folder_result(root)
    assert not result.from_cache and result.dataset.y_train.tolist() == [0, 0, 1, 1]


def test_options_have_their_own_caches(tmp_path, cache_home):
    root = two_class(tmp_path / "f")
    a = load_image_folder_result(root, size=32)
    b = load_image_folder_result(root, size=16)
    c = load_image_folder_result(root, skip_bad=True)
    assert len({a.cache_file, b.cache_file, c.cache_file}) == 3
    assert len(cache_files(cache_home)) == 3
    assert load_image_folder_result(root, size=16).from_cache
    assert load_image_folder(root, size=16).x_train.shape[2:] == (16, 16)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_cache_is_rebuilt(tmp_path, damage):
    root = two_class(tmp_path / "f")
    first = load_image_folder_result(root)
    raw = first.cache_file.read_bytes()
    bad = {
        "garbage": b"garbage" * 100,
        "truncated": raw[: len(raw) // 2],
        "empty": b"",
    }[damage]
    first.cache_file.write_bytes(bad)
    rec = Recorder()
    second = load_image_folder_result(root, reporter=rec)
    assert not second.from_cache and same(first.dataset, second.dataset)
    assert any("ignoring unreadable cache" in line for line in rec.lines)
    assert second.cache_file.read_bytes() != bad
    assert load_image_folder_result(root).from_cache  # rebuilt and readable again


def test_cache_with_wrong_contents_is_rebuilt(tmp_path):
    # a well-formed .npz under the right name but holding other arrays
    root = two_class(tmp_path / "f")
    first = load_image_folder_result(root)
    with open(first.cache_file, "wb") as f:
        np.savez(
            f,
            key=np.array("someone else's"),
            x_train=np.zeros((1, 3, 32, 32), np.uint8),
        )
    second = load_image_folder_result(root)
    assert not second.from_cache and same(first.dataset, second.dataset)


def test_skipped_files_are_reported_from_the_cache_too(tmp_path):
    root = two_class(tmp_path / "f", {"train/a/bad.png": b"junk"})
    load_image_folder_result(root, skip_bad=True)
    rec = Recorder()
    again = load_image_folder_result(root, skip_bad=True, reporter=rec)
    assert again.from_cache and again.skipped == ("train/a/bad.png",)
    assert any("skipped 1 unreadable" in line for line in rec.lines)


def test_progress_lines(tmp_path, monkeypatch):
    from convlearn.datasets import folder

    monkeypatch.setattr(folder, "_PROGRESS_EVERY", 2)
    rec = Recorder()
    load_image_folder(two_class(tmp_path / "f"), cache=False, reporter=rec)
    assert rec.lines[0].startswith("decoding 5 images")
    progress = [line for line in rec.lines if line.startswith("decoded")]
    assert progress == ["decoded 2/5 images", "decoded 4/5 images"]


# ---- real data -------------------------------------------------------------


def cifar_jpg():
    env = os.environ.get("CONVLEARN_CIFAR10_JPG")
    return (
        Path(env)
        if env
        else Path(__file__).resolve().parents[2].parent / "shared/data/cifar10-jpg"
    )


def test_real_cifar10_jpegs(tmp_path):
    src = cifar_jpg()
    if not (src / "train").is_dir():
        pytest.skip(
            f"CIFAR-10 JPEG folder not found at {src} (set CONVLEARN_CIFAR10_JPG)"
        )
    # a slice of symlinks (not copies): the first 20 train and 5 test files of each class
    root = tmp_path / "cifar-slice"
    for split, n in (("train", 20), ("test", 5)):
        for cls in sorted(p.name for p in (src / split).iterdir() if p.is_dir()):
            (root / split / cls).mkdir(parents=True)
            for f in sorted((src / split / cls).glob("*.jpg"))[:n]:
                os.symlink(f, root / split / cls / f.name)
    result = load_image_folder_result(root)
    data = result.dataset
    # the folder names sort into CIFAR-10 label order, so label k is CIFAR class k
    assert data.classes == CIFAR10_CLASSES == sorted(CIFAR10_CLASSES)
    assert data.x_train.shape == (200, 3, 32, 32) and data.x_test.shape == (
        50,
        3,
        32,
        32,
    )
    assert np.array_equal(data.y_train, np.repeat(np.arange(10), 20))
    assert np.array_equal(data.y_test, np.repeat(np.arange(10), 5))
    first = sorted((src / "train" / "airplane").glob("*.jpg"))[0]
    assert np.array_equal(
        data.x_train[0], np.asarray(Image.open(first).convert("RGB")).transpose(2, 0, 1)
    )
    mean = data.x_train.mean(axis=(0, 2, 3)) / 255
    assert np.allclose(mean, [0.491, 0.481, 0.444], atol=0.06), mean
    assert load_image_folder_result(root).from_cache
