"""A reduced real run: a few thousand CIFAR-10 images, a couple of epochs, well above chance.

Uses ../shared/data/cifar10-jpg (or $CONVLEARN_CIFAR10_JPG) through a folder
of symbolic links to part of it, so nothing is copied; skips, with the
reason, where the data set is absent.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from convlearn.datasets import load_image_folder
from convlearn.nn.model import build
from convlearn.nn.train import TrainConfig, evaluate, train
from convlearn.runs import channel_stats

ROOT = Path(__file__).resolve().parents[1]
CIFAR_JPG = Path(
    os.environ.get(
        "CONVLEARN_CIFAR10_JPG", ROOT.parent / "shared" / "data" / "cifar10-jpg"
    )
)
TRAIN_PER_CLASS, TEST_PER_CLASS = 300, 100
# Chance is 10%; the small net reaches about 40% in this budget (seen 38-44%).
ACCURACY_BAR = 0.30


@pytest.fixture(scope="module")
def cifar_part(tmp_path_factory):
    if not (CIFAR_JPG / "train").is_dir():
        pytest.skip(f"the CIFAR-10 JPEG folder is absent ({CIFAR_JPG}); CI has it")
    root = tmp_path_factory.mktemp("cifar-part")
    for split, n in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
        for class_dir in sorted((CIFAR_JPG / split).iterdir()):
            (root / split / class_dir.name).mkdir(parents=True)
            for f in sorted(class_dir.iterdir())[:n]:
                (root / split / class_dir.name / f.name).symlink_to(f)
    return root


def test_the_small_net_learns_real_cifar10_well_above_chance(
    cifar_part, tmp_path, monkeypatch
):
    # the cache goes to tmp_path, not to ~/.cache
    monkeypatch.setenv("CONVLEARN_DATA", str(tmp_path))
    data = load_image_folder(cifar_part)
    assert data.classes == [
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
    assert data.x_train.shape == (10 * TRAIN_PER_CLASS, 3, 32, 32)
    assert np.bincount(data.y_test).tolist() == [TEST_PER_CLASS] * 10
    net = build("small", seed=0)
    net.set_normalization(*channel_stats(data.x_train))
    _, before = evaluate(net, data.x_test, data.y_test)
    config = TrainConfig(epochs=3, batch_size=64, lr=0.05, schedule="onecycle")
    history = train(
        net, data.x_train, data.y_train, config, test=(data.x_test, data.y_test)
    )
    assert before < 0.2
    assert history[-1]["test_accuracy"] >= ACCURACY_BAR, history
