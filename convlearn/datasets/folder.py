"""Image folders: root/train/<class>/* and root/test/<class>/* as a `Dataset`, cached.

`load_image_folder(root, size=32)` decodes every image with Pillow, turns it
into size x size RGB by the rules below, and caches the arrays as an .npz in
``data_home()/"cache"`` so that the next load of the same, unchanged folder
is a single file read.

Layout. The class names are the sorted names of the folders in root/train;
root/test must hold folders of exactly those names. Image files are taken by
extension (.jpg .jpeg .png .bmp .gif .tif .tiff .webp, any case), directly
inside a class folder; hidden entries (names starting with ".", such as
.DS_Store or .ipynb_checkpoints), other files and nested folders are ignored.
Images come in class order, then in file-name order (plain string order:
zero-pad numbered names), so a load is deterministic.

Pixels. Each file becomes RGB uint8 in this order:

1. EXIF orientation is applied (`PIL.ImageOps.exif_transpose`); animated
   files give their first frame.
2. The mode becomes RGB:

   - RGB as it is; L (grey) and 1 (bilevel: 0 -> 0, 1 -> 255) repeated in
     all three channels; P (palette) looked up in its palette; CMYK by
     Pillow's plain formula R = 255 (1 - C)(1 - K) (no colour management);
     YCbCr, HSV and the other modes Pillow converts, by Pillow.
   - Transparency (RGBA, LA, PA, and any L, RGB or P image with a
     ``transparency`` entry, converted to RGBA first) is composited over a
     **white** background: out = round((c a + 255 (255 - a)) / 255) for a
     colour value c and alpha a in 0..255. Alpha 0 gives (255, 255, 255).
   - I;16 (16-bit grey) keeps its high byte: v >> 8, so 65535 -> 255, and an
     8-bit value g stored as 16 bits (g * 257) comes back as g.
   - I (32-bit integer grey) is read as 16-bit data, the usual source of
     such images: clipped to [0, 65535], then >> 8.
   - F (32-bit float grey) is read on the [0, 1] scale: round(255 v) after
     clipping to [0, 1] (NaN -> 0).
3. An image that is not size x size is resized so that its shorter side is
   `size`, with Pillow's bicubic filter (which widens when shrinking, so it
   antialiases), then centre-cropped to size x size (an odd excess drops its
   extra row or column at the bottom or right). Images already size x size,
   and images whose shorter side is already `size`, are not resampled: the
   CIFAR-10 JPEGs load exactly as Pillow decodes them.

Unreadable files. A corrupt or truncated file, or one in a mode Pillow cannot
turn into RGB, raises ValueError naming it. With ``skip_bad=True`` such files
are left out; their number goes to ``reporter.info`` and their paths to
`ImageFolderResult.skipped` (from `load_image_folder_result`).

Cache. The file name holds a SHA-256 of the absolute root, every image's
relative path, byte size and mtime_ns, `size`, `skip_bad`, the Pillow version
and a format version, so any change to the folder makes a new cache (the old
one for that root and options is deleted). It is written to a temporary file
and renamed, read with ``allow_pickle=False``, and an unreadable or
inconsistent cache is ignored and rebuilt.
"""

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageOps

from .._checks import check_positive_int
from .._files import atomic_write
from ..progress import silent
from .core import Dataset, data_home

__all__ = [
    "load_image_folder",
    "load_image_folder_result",
    "ImageFolderResult",
    "IMAGE_EXTENSIONS",
]

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
)
_CACHE_VERSION = 1  # bump when the decoding rules or the cache layout change
_PROGRESS_EVERY = 5000  # images between progress lines
_BICUBIC = getattr(Image, "Resampling", Image).BICUBIC  # Pillow >= 9.1 has the enum
_WITH_ALPHA = ("RGBA", "RGBa", "LA", "La", "PA")


@dataclass(frozen=True)
class ImageFolderResult:
    """What `load_image_folder_result` returns.

    dataset : Dataset
    skipped : tuple of str
        Paths, relative to root with "/" separators, of the files left out as
        unreadable (always empty unless ``skip_bad=True``).
    from_cache : bool
        True when the arrays came from the cache file.
    cache_file : Path or None
        The cache file read or written; None when ``cache=False`` or when it
        could not be written.
    """

    dataset: Dataset
    skipped: tuple
    from_cache: bool
    cache_file: Path | None


def load_image_folder(
    root, size=32, cache=True, skip_bad=False, reporter=None
) -> Dataset:
    """Load root/train/<class>/* and root/test/<class>/* as a Dataset of size x size RGB images.

    Parameters
    ----------
    root : str or os.PathLike
        The folder holding train/ and test/.
    size : int, default 32
        Side of the square images returned.
    cache : bool, default True
        Read and write the .npz cache in ``data_home()/"cache"``.
    skip_bad : bool, default False
        Leave out unreadable files instead of raising; see
        `load_image_folder_result` for their list.
    reporter : object with .info(str), optional
        Receives progress lines, the cache used and the number of files
        skipped. None is silent.

    Returns
    -------
    Dataset
        x_train (N, 3, size, size) uint8, y_train (N,) int64, x_test,
        y_test, classes (sorted folder names). See the module docstring for
        the layout, the colour-mode rules and the resizing.

    Raises
    ------
    TypeError
        When root is not a str or os.PathLike.
    ValueError
        When root, train/ or test/ is missing, a split holds no class folder
        or a single one, train and test name different classes, a class
        folder holds no image, or (without `skip_bad`) a file cannot be
        decoded. The message names the path or class.
    """
    return load_image_folder_result(root, size, cache, skip_bad, reporter).dataset


def load_image_folder_result(
    root, size=32, cache=True, skip_bad=False, reporter=None
) -> ImageFolderResult:
    """`load_image_folder`, returning an `ImageFolderResult`.

    Same arguments; the result also says which files were skipped and
    whether, and which, cache file was used.
    """
    root = _check_root(root)
    size = check_positive_int("size", size)
    skip_bad = bool(skip_bad)
    rep = silent(reporter)
    classes, files, labels, key = _scan(root, size, skip_bad)
    n_train = sum(f.startswith("train/") for f in files)
    path = _cache_path(root, size, skip_bad, key) if cache else None
    if path is not None:
        hit = _read_cache(path, key, classes, size, rep)
        if hit is not None:
            data, skipped = hit
            rep.info(f"loaded image folder {root} from cache {path}")
            _report_skipped(rep, root, skipped)
            return ImageFolderResult(data, skipped, True, path)

    x, keep = _decode_all(root, files, size, skip_bad, rep)
    skipped = tuple(f for f, k in zip(files, keep) if not k)
    if skipped:
        n_train = int(np.count_nonzero(keep[:n_train]))
        x, labels = x[keep], labels[keep]
    # train and test are views of one buffer: no second copy of the images
    data = Dataset(
        x[:n_train], labels[:n_train], x[n_train:], labels[n_train:], classes
    )
    _report_skipped(rep, root, skipped)
    if path is not None and not _write_cache(path, key, data, skipped, rep):
        path = None
    return ImageFolderResult(data, skipped, False, path)


# ---- finding the files -----------------------------------------------------


def _check_root(root):
    """root must name an existing folder -> its absolute, resolved Path."""
    try:
        path = Path(os.fspath(root))
    except TypeError:
        raise TypeError(
            f"root must be a path (str or os.PathLike), got {type(root).__name__}"
        ) from None
    if not path.exists():
        raise ValueError(f"image folder root {str(path)!r} does not exist")
    if not path.is_dir():
        raise ValueError(f"image folder root {str(path)!r} is not a folder")
    return path.resolve()


def _visible(folder):
    """The entries of folder not starting with ".", sorted by name."""
    with os.scandir(folder) as it:
        return sorted(
            (e for e in it if not e.name.startswith(".")), key=lambda e: e.name
        )


def _class_names(root, split):
    """Sorted class folder names of root/split; ValueError when there are none."""
    folder = root / split
    names = [e.name for e in _visible(folder) if e.is_dir()]
    if not names:
        raise ValueError(
            f"{str(folder)!r} holds no class folders; expected {split}/<class>/<images>"
        )
    return names


def _scan(root, size, skip_bad):
    """List the images -> (classes, relative paths, int64 labels, cache key).

    One os.scandir per folder and one stat per file, so listing 60,000
    files takes a fraction of a second. The key hashes each file's relative
    path, byte size and mtime_ns with the options that change the arrays.
    """
    for split in ("train", "test"):
        if not (root / split).is_dir():
            raise ValueError(
                f"image folder {str(root)!r} has no {split}/ folder; expected "
                f"root/train/<class>/ and root/test/<class>/ folders of images"
            )
    classes = _class_names(root, "train")
    if len(classes) < 2:
        raise ValueError(
            f"{str(root / 'train')!r} holds a single class folder {classes[0]!r}; need at least 2 classes"
        )
    test_classes = _class_names(root, "test")
    missing = sorted(set(classes) - set(test_classes))
    extra = sorted(set(test_classes) - set(classes))
    if missing:
        raise ValueError(
            f"{str(root / 'test')!r} lacks the class folder(s) {missing} found in train/"
        )
    if extra:
        raise ValueError(
            f"{str(root / 'test')!r} has class folder(s) {extra} that train/ does not have"
        )

    digest = hashlib.sha256(
        json.dumps(
            [_CACHE_VERSION, str(root), size, skip_bad, PIL.__version__]
        ).encode()
    )
    files, labels = [], []
    for split in ("train", "test"):
        for label, name in enumerate(classes):
            folder = root / split / name
            lines = []
            for e in _visible(folder):
                dot = e.name.rfind(".")  # os.path.splitext is slow at 60,000 names
                if dot > 0 and e.name[dot:].lower() in IMAGE_EXTENSIONS and e.is_file():
                    st = e.stat()  # follows symlinks: the target's size and mtime
                    rel = f"{split}/{name}/{e.name}"
                    files.append(rel)
                    lines.append(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n")
            if not lines:
                raise ValueError(
                    f"class folder {str(folder)!r} holds no image files "
                    f"({' '.join(sorted(IMAGE_EXTENSIONS))})"
                )
            labels.extend([label] * len(lines))
            digest.update("".join(lines).encode("utf-8", "surrogateescape"))
    return classes, files, np.asarray(labels, np.int64), digest.hexdigest()


# ---- decoding --------------------------------------------------------------


def _decode_all(root, files, size, skip_bad, rep):
    """Decode files -> (x (N, 3, size, size) uint8, keep (N,) bool: False for a skipped file)."""
    n = len(files)
    x = np.zeros((n, 3, size, size), np.uint8)
    keep = np.ones(n, bool)
    rep.info(f"decoding {n} images from {root} (the cache makes later loads fast)")
    for i, rel in enumerate(files):
        try:
            x[i] = _read_image(root / rel, size).transpose(
                2, 0, 1
            )  # (size, size, 3) -> (3, size, size)
        except ValueError:
            if not skip_bad:
                raise
            keep[i] = False
        if (i + 1) % _PROGRESS_EVERY == 0 and i + 1 < n:
            rep.info(f"decoded {i + 1}/{n} images")
    return x, keep


def _read_image(path, size):
    """One image file -> ndarray (size, size, 3) uint8; ValueError naming the file if unreadable."""
    try:
        with Image.open(path) as im:
            im.load()
            im = ImageOps.exif_transpose(im)
    except Exception as err:
        # Pillow reports malformed files as OSError, SyntaxError, ValueError,
        # EOFError, struct.error, zlib.error, DecompressionBombError, ...:
        # whatever it raises here is about the file's contents.
        raise ValueError(
            f"cannot decode image file {str(path)!r}: {type(err).__name__}: {err}"
        ) from err
    try:
        rgb = _to_rgb(im)
    except ValueError as err:
        raise ValueError(
            f"cannot convert image file {str(path)!r} (mode {im.mode}) to RGB: {err}"
        ) from err
    return _fit(rgb, size)


def _to_rgb(im):
    """A Pillow image of any mode -> ndarray (H, W, 3) uint8, by the rules in the module docstring."""
    mode = im.mode
    if mode == "I" or mode.startswith("I;16"):
        v = np.asarray(im).astype(np.int64)  # I;16B arrives big-endian, I as int32
        return _grey(np.clip(v, 0, 65535) >> 8)
    if mode == "F":
        v = np.nan_to_num(np.asarray(im, np.float64), nan=0.0)
        return _grey(np.rint(np.clip(v, 0.0, 1.0) * 255))
    if mode in _WITH_ALPHA or "transparency" in im.info:
        rgba = np.asarray(im.convert("RGBA")).astype(np.uint32)
        c, a = rgba[:, :, :3], rgba[:, :, 3:]
        # c a / 255 + 255 (1 - a / 255), rounded: the +127 rounds the integer division
        return ((c * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)
    return np.asarray(im if mode == "RGB" else im.convert("RGB"))


def _grey(v):
    """Grey values (H, W) in 0..255 -> (H, W, 3) uint8."""
    return np.repeat(v.astype(np.uint8)[:, :, None], 3, axis=2)


def _fit(rgb, size):
    """(H, W, 3) -> (size, size, 3): shorter side resized to size (bicubic), then a centre crop."""
    H, W, _ = rgb.shape
    if (H, W) == (size, size):
        return rgb
    # A very elongated image would be resized whole before the crop throws
    # most of it away (a 150000 x 1 PNG would take gigabytes): keep only its
    # middle, with room for the filter, before resizing.
    short, margin = min(H, W), min(H, W) + 8
    if H > 4 * margin:
        rgb = rgb[(H - margin) // 2 : (H - margin) // 2 + margin]
    if W > 4 * margin:
        rgb = rgb[:, (W - margin) // 2 : (W - margin) // 2 + margin]
    H, W, _ = rgb.shape
    scale = size / short
    OH, OW = max(size, round(H * scale)), max(size, round(W * scale))
    if (OH, OW) != (H, W):
        rgb = np.asarray(Image.fromarray(rgb).resize((OW, OH), _BICUBIC))
    top, left = (OH - size) // 2, (OW - size) // 2
    return rgb[top : top + size, left : left + size]


def _report_skipped(rep, root, skipped):
    if skipped:
        more = " ..." if len(skipped) > 5 else ""
        names = ", ".join(skipped[:5])
        rep.info(
            f"skipped {len(skipped)} unreadable image file(s) under {root}: {names}{more}"
        )


# ---- the cache -------------------------------------------------------------


def _cache_path(root, size, skip_bad, key):
    """data_home()/cache/<root name>_<hash of root and options>_<hash of everything>.npz."""
    options = hashlib.sha256(
        json.dumps([str(root), size, skip_bad]).encode()
    ).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", root.name)[:40] or "root"
    return data_home() / "cache" / f"{name}_{options}_{key[:32]}.npz"


def _read_cache(path, key, classes, size, rep):
    """(Dataset, skipped) from the cache file, or None when absent, unreadable or inconsistent."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key or z["classes"].tolist() != classes:
                raise ValueError("its key or classes do not match the folder")
            data = Dataset(
                z["x_train"], z["y_train"], z["x_test"], z["y_test"], classes
            )
            skipped = tuple(z["skipped"].tolist())
        if data.x_train.shape[2:] != (size, size):
            raise ValueError(f"it holds images of shape {data.x_train.shape[2:]}")
        return data, skipped
    except Exception as err:
        # a torn write, a foreign file, a numpy that cannot read it: rebuild
        rep.info(
            f"ignoring unreadable cache {path} ({type(err).__name__}: {err}); rebuilding it"
        )
        return None


def _write_cache(path, key, data, skipped, rep):
    """Write the cache atomically (temporary file, then os.replace); drop stale ones. -> success."""
    folder = path.parent
    try:
        with atomic_write(path) as f:
            np.savez(
                f,
                key=np.array(key),
                classes=np.array(data.classes),
                skipped=np.array(skipped, dtype=str),
                x_train=data.x_train,
                y_train=data.y_train,
                x_test=data.x_test,
                y_test=data.y_test,
            )
    except OSError as err:
        rep.info(f"could not write cache {path} ({err}); continuing without it")
        return False
    # Older caches of this root and these options describe a folder that has since changed.
    prefix = path.name[: -len(key[:32]) - len(".npz")]
    for old in folder.glob(prefix + "*.npz"):
        if old != path:
            try:
                old.unlink()
            except OSError:
                pass
    return True
