"""The committed reference nets (docs/results/nets) reach the README's test accuracy.

Loads each net with convlearn.nn.model.load and classifies the 10,000
CIFAR-10 test images of ../shared/data/cifar10-jpg (or
$CONVLEARN_CIFAR10_JPG) from raw uint8 pixels, through a folder of symbolic
links (nothing is copied); skips, with the reason, where the data set is
absent.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from convlearn.datasets import load_image_folder
from convlearn.nn.model import load

ROOT = Path(__file__).resolve().parents[1]
NETS = ROOT / "docs" / "results" / "nets"
CIFAR_JPG = Path(
    os.environ.get(
        "CONVLEARN_CIFAR10_JPG", ROOT.parent / "shared" / "data" / "cifar10-jpg"
    )
)


@pytest.fixture(scope="module")
def cifar_test(tmp_path_factory):
    if not (CIFAR_JPG / "test").is_dir():
        pytest.skip(f"the CIFAR-10 JPEG folder is absent ({CIFAR_JPG}); CI has it")
    root = tmp_path_factory.mktemp("cifar-test")
    for split in ("train", "test"):
        for class_dir in sorted((CIFAR_JPG / split).iterdir()):
            (root / split / class_dir.name).mkdir(parents=True)
            # the whole test split; one training image per class (unused)
            files = sorted(class_dir.iterdir())
            for f in files if split == "test" else files[:1]:
                (root / split / class_dir.name / f.name).symlink_to(f)
    with pytest.MonkeyPatch.context() as mp:  # the cache goes to a temporary folder
        mp.setenv("CONVLEARN_DATA", str(tmp_path_factory.mktemp("cache")))
        return load_image_folder(root)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_reference_net_reaches_its_recorded_accuracy(cifar_test, seed):
    net = load(NETS / f"net-{seed}.npz")
    history = json.loads((NETS / f"net-{seed}.history.json").read_text())
    recorded = history["history"][-1]["test_accuracy"]
    accuracy = float(np.mean(net.predict(cifar_test.x_test) == cifar_test.y_test))
    assert len(cifar_test.y_test) == 10_000
    assert accuracy >= 0.75
    # the same images and weights; only BLAS rounding may flip a borderline image
    assert abs(accuracy - recorded) <= 0.001
