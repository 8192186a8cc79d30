"""First-load and cached-load time of `load_image_folder` on a real image folder.

Run:  python bench/image_cache_speed.py [root] [--rounds 3]

root defaults to ../shared/data/cifar10-jpg (relative to the project root):
60,000 CIFAR-10 JPEGs. The cache goes to a temporary CONVLEARN_DATA folder,
deleted at the end, so the first load really decodes every file. Reported:
the first load (decode + cache write), the listing and key alone, and the
cached load (median of --rounds), in seconds; the target for the cached
load of CIFAR-10 is under 2 s. The cached arrays must equal the decoded
ones, or the script fails.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from convlearn.datasets import folder


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "root", nargs="?", default=str(ROOT.parent / "shared" / "data" / "cifar10-jpg")
    )
    p.add_argument(
        "--rounds", type=int, default=3, help="cached loads timed; the median is kept"
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="convlearn-bench-") as home:
        os.environ["CONVLEARN_DATA"] = home
        t = time.perf_counter()
        first = folder.load_image_folder_result(args.root)
        t_first = time.perf_counter() - t
        assert not first.from_cache and first.cache_file is not None

        t = time.perf_counter()
        folder._scan(folder._check_root(args.root), 32, False)
        t_scan = time.perf_counter() - t

        times = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            again = folder.load_image_folder_result(args.root)
            times.append(time.perf_counter() - t)
            assert again.from_cache
        a, b = first.dataset, again.dataset
        for name in ("x_train", "y_train", "x_test", "y_test"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        n = len(a.y_train) + len(a.y_test)
        mb = first.cache_file.stat().st_size / 1e6
    print(f"{args.root}: {n} images, {a.n_classes} classes, cache {mb:.0f} MB")
    print(
        f"first load (decode + write cache): {t_first:7.2f} s  ({n / t_first:,.0f} images/s)"
    )
    print(f"listing + cache key only:          {t_scan:7.2f} s")
    print(
        f"cached load (median of {args.rounds}):        {statistics.median(times):7.2f} s  (target < 2 s)"
    )


if __name__ == "__main__":
    main()
