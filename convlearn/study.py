"""The study of Li et al. (2016) on a set of trained nets, saved step by step.

``analyze`` runs every analysis of the paper on nets that differ only in
their seed and writes the results into one folder, which ``report`` turns
into figures, tables and a page:

- section 2: per layer, the within-net and between-net correlations of the
  units over the test images (``collect_stats``, every pair of nets);
- section 3: one-to-one alignment by semi-matching and bipartite matching
  (``align_units``, every pair), unique units, and the same matchings on
  mutual information (nets 0 and 1);
- section 4: few-to-one sparse prediction of net 1's units from net 0's
  (``sparse_prediction``);
- section 5: many-to-many, spectral clusters of both nets' units together
  (``shared_subspaces``, at the eigengap's k and at a fixed k).

The analysis folder holds::

    study.json          the StudyConfig, the nets (seeds, accuracy), the version
    stats/<layer>-<i>-<j>.npz   ActivationStats of nets i and j
    <layer>.json        every number of the layer's analyses
    <layer>.npz         the arrays behind its figures (float32)
    filters.npz         first-layer (conv1) weights of nets 0 and 1, and its name
    patches-<layer>.npz top-9 image patches of chosen units (only with patches)

Each step writes its files atomically and is skipped when they exist, so
running the same command after an interruption resumes at the step it was
in. A folder holding results of another configuration is refused.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np

from . import __version__
from ._files import atomic_write
from .analysis.lasso import sparse_prediction
from .analysis.matching import align_units, partner_agreement
from .analysis.mutual_info import mutual_information_matrix
from .analysis.spectral import shared_subspaces
from .analysis.stats import ActivationStats, collect_stats, correlation
from .progress import silent

__all__ = ["StudyConfig", "analyze", "load_layer", "receptive_field", "PAPER"]

# The paper's numbers (Net1 vs Net2, ImageNet CaffeNets), for comparison.
PAPER = {
    "semi": {"conv1": 0.70, "conv2": 0.56, "conv3": 0.48, "conv4": 0.37, "conv5": 0.42},
    "bipartite": {
        "conv1": 0.66,
        "conv2": 0.51,
        "conv3": 0.45,
        "conv4": 0.34,
        "conv5": 0.39,
    },
}


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """What the study measures, on which images.

    layers: the analysed layers (conv and fc, after their ReLU). n_images:
    test images behind the correlations (every spatial position a sample),
    drawn at random. n_sample_images / positions: the images (a random draw,
    independent of the first), and the random positions per
    image in a conv layer, whose activations are kept for mutual information
    and sparse prediction (the first half of the images fit the lasso, the
    second half score it). mi_bins: bins per unit, the zero bin included.
    alphas: lasso penalties on standardised units (0 = least squares).
    unique_threshold: a unit with no between-net |r| this high is unique.
    cluster_size: the fixed-k spectral clustering uses k = units // this.
    patches: also keep the top-9 image patches of the best and worst
    matched pairs of each conv layer (pixels of the data set: the committed
    report leaves them out). seed: the sampled positions and the clustering.
    """

    layers: tuple
    n_images: int = 10000
    n_sample_images: int = 4000
    positions: int = 32
    mi_bins: int = 10
    alphas: tuple = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
    unique_threshold: float = 0.5
    cluster_size: int = 4
    patches: bool = True
    seed: int = 0
    batch_size: int = 100

    def to_dict(self):
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


# ---------------------------------------------------------------------------
# receptive fields and image patches


def receptive_field(net, layer):
    """(size, stride, offset) of one unit of ``layer`` in input pixels.

    Unit (h, w) of the layer sees the input rows offset + h * stride ...
    offset + h * stride + size - 1 (the same for columns; the window may
    reach past the image, into the padding). Walks the conv and pool layers
    up to ``layer``: each window k with stride s and padding p grows the
    field by (k - 1) * jump and multiplies the jump by s.
    """
    size, jump, offset = 1, 1, 0
    for lay in net.layers:
        window = getattr(lay, "size", None)  # pools
        if "weight" in getattr(lay, "params", {}) and lay.params["weight"].ndim == 4:
            window = lay.params["weight"].shape[2]
        if window is not None and hasattr(lay, "stride"):
            k = window[0] if isinstance(window, tuple) else window
            size += (k - 1) * jump
            offset -= lay.pad[0] * jump
            jump *= lay.stride[0]
        if lay.name == layer:
            return size, jump, offset
    raise ValueError(f"layer {layer!r} is not a layer of {net.layer_names}")


def _cut(images, index, h, w, field):
    """(3, size, size) uint8 patch of images[index] under unit (h, w); outside is grey."""
    size, jump, offset = field
    top, left = offset + h * jump, offset + w * jump
    _, _, H, W = images.shape
    patch = np.full((3, size, size), 128, dtype=np.uint8)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + size, H), min(left + size, W)
    patch[:, r0 - top : r1 - top, c0 - left : c1 - left] = images[
        index, :, r0:r1, c0:c1
    ]
    return patch


def _top_patches(images, peak, where, unit, field, shape, k=9):
    """(k, 3, size, size) patches of the k images where ``unit`` peaks highest."""
    best = np.argsort(-peak[:, unit], kind="stable")[:k]
    _, W = shape
    return np.stack(
        [_cut(images, i, *divmod(int(where[i, unit]), W), field) for i in best]
    )


# ---------------------------------------------------------------------------
# the steps


class _Folder:
    """The analysis folder: JSON and npz files written atomically, skipped when present."""

    def __init__(self, path):
        self.path = Path(path)

    def has(self, *names):
        return all((self.path / n).exists() for n in names)

    def write_json(self, name, obj):
        with atomic_write(self.path / name, "w") as f:
            json.dump(obj, f, indent=1)

    def write_npz(self, name, **arrays):
        with atomic_write(self.path / name, "wb") as f:
            np.savez_compressed(f, **arrays)

    def read_json(self, name):
        try:
            return json.loads((self.path / name).read_text())
        except ValueError as e:
            raise ValueError(
                f"{self.path / name}: damaged JSON ({e}); delete it to redo the step"
            ) from e


def _pairs(n):
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def _mean(x):
    """Mean over the finite entries, NaN when there are none (dead units are NaN)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def _statistics(nets, images, config, folder, reporter):
    """Step 1: ActivationStats of every pair and layer over the test images."""
    names = [
        f"stats/{layer}-{i}-{j}.npz"
        for layer in config.layers
        for i, j in _pairs(len(nets))
    ]
    if folder.has(*names):
        reporter.info("statistics: already computed")
        return
    reporter.info(
        f"statistics: {len(config.layers)} layers of {len(nets)} nets over "
        f"{len(images)} images"
    )
    stats = collect_stats(nets, images, config.layers, config.batch_size, reporter)
    for (i, j), by_layer in stats.items():
        for layer, s in by_layer.items():
            s.save(folder.path / f"stats/{layer}-{i}-{j}.npz")


def _samples(nets, images, config, rng, reporter):
    """Step 2's input: activations of nets 0 and 1 at sampled positions, and per-image peaks.

    Returns {layer: (A, B, peaks)} with A, B (S, U) float32 samples (the
    same images and positions for both nets, ordered by image) and peaks
    (peak value, peak position) per net, each (n_images, U), for the patches.
    """
    kept = {
        layer: {"a": [], "b": [], "peak": ([], []), "where": ([], [])}
        for layer in config.layers
    }
    for start in range(0, len(images), config.batch_size):
        batch = images[start : start + config.batch_size]
        acts = [
            net.activations(net.preprocess(batch), config.layers) for net in nets[:2]
        ]
        for layer, k in kept.items():
            a, b = acts[0][layer], acts[1][layer]
            if a.ndim == 2:  # an fc layer: one sample per image
                k["a"].append(a)
                k["b"].append(b)
                continue
            N, U, H, W = a.shape
            P = min(config.positions, H * W)
            idx = np.argsort(rng.random((N, H * W)), axis=1)[:, :P, None]  # (N, P, 1)
            for net, x in enumerate((a, b)):
                flat = x.reshape(N, U, H * W).transpose(0, 2, 1)  # (N, HW, U)
                k["ab"[net]].append(
                    np.take_along_axis(flat, idx, axis=1).reshape(N * P, U)
                )
                k["peak"][net].append(flat.max(axis=1))  # (N, U)
                k["where"][net].append(flat.argmax(axis=1))
        reporter.status(
            f"samples for MI and the lasso: {start + len(batch)}/{len(images)} images"
        )
    reporter.end_status()
    cat = np.concatenate
    return {
        layer: (
            cat(k["a"]),
            cat(k["b"]),
            [(cat(p), cat(w)) for p, w in zip(k["peak"], k["where"])]
            if k["peak"][0]
            else None,
        )
        for layer, k in kept.items()
    }


def _one_to_one(layer, n_nets, config, folder):
    """Section 3 for every pair: the matchings' means, unique and dead units."""
    pairs = {}
    for i, j in _pairs(n_nets):
        s = ActivationStats.load(folder.path / f"stats/{layer}-{i}-{j}.npz")
        al = align_units(
            s.corr_between, s.corr_within_a, s.corr_within_b, config.unique_threshold
        )
        live_a = len(al.semi_ab) - len(al.dead_a)
        live_b = len(al.semi_ba) - len(al.dead_b)
        pairs[f"{i}-{j}"] = {
            "semi": _mean(al.semi_ab_corr),
            "semi_ba": _mean(al.semi_ba_corr),
            "bipartite": _mean(al.bipartite_corr),
            "within_best_a": _mean(al.within_a_corr),
            "unique_share_a": len(al.unique_a) / live_a if live_a else float("nan"),
            "unique_share_b": len(al.unique_b) / live_b if live_b else float("nan"),
            "dead_a": len(al.dead_a),
            "dead_b": len(al.dead_b),
        }
        if (i, j) == (0, 1):
            first, first_stats = al, s
    summary = {
        key: _mean([p[key] for p in pairs.values()])
        for key in ("semi", "bipartite", "unique_share_a")
    }
    for key in ("semi", "bipartite"):
        values = [p[key] for p in pairs.values()]
        summary[key + "_min"], summary[key + "_max"] = min(values), max(values)
    return pairs, summary, first, first_stats


def _mi_comparison(A, B, config):
    """Section 3's check: do matchings on mutual information pick the correlation's partners?"""
    _, mi_corrected = mutual_information_matrix(
        A, B, config.mi_bins
    )  # (plug-in, corrected)
    corr = correlation(A, B)
    semi, bipartite = partner_agreement(mi_corrected, corr)
    return {
        "samples": int(A.shape[0]),
        "agreement_semi": semi,
        "agreement_bipartite": bipartite,
        "mean_best_mi": _mean(np.max(mi_corrected, axis=1)),
    }, mi_corrected


def _sparse(A, B, n_images, order, config):
    """Section 4: net 1's units from net 0's, fitted on the first half of the images."""
    split = (n_images // 2) * (A.shape[0] // n_images)
    sp = sparse_prediction(
        A[:split],
        B[:split],
        A[split:],
        B[split:],
        config.alphas,
        standardize=True,
        order=order,
    )
    return {
        "alphas": [float(a) for a in sp.alphas],
        "mean_nmse": [float(v) for v in sp.mean_nmse],
        "mean_nonzeros": [float(v) for v in sp.mean_nonzeros],
        "median_nonzeros": [float(v) for v in sp.nonzero_percentiles[:, 2]],
        "excluded": int(sp.excluded.size),
        "n_train": sp.n_train,
        "n_test": sp.n_test,
    }, sp


def _many_to_many(s, config):
    """Section 5 at the eigengap's k and at k = units // cluster_size."""
    out, orders = {}, {}
    n_live = (
        s.corr_within_a.shape[0]
        + s.corr_within_b.shape[0]
        - len(s.dead_a)
        - len(s.dead_b)
    )
    fixed = max(2, min(s.corr_within_a.shape[0] // config.cluster_size, n_live))
    for name, k in (("eigengap", None), ("fixed", fixed)):
        ss = shared_subspaces(
            s.corr_within_a, s.corr_within_b, s.corr_between, k, config.seed
        )
        sizes = [len(a) + len(b) for a, b in zip(ss.units_a, ss.units_b)]
        out[name] = {
            "n_clusters": ss.n_clusters,
            "shared_fraction": ss.shared_fraction,
            "mixed": int(ss.shared.sum()),
            "largest": int(max(sizes)),
        }
        orders[name] = (ss.order, np.cumsum(sizes)[:-1])
    return out, orders


def _layer(layer, nets, images, samples, config, folder, reporter):
    """Steps 2-4 for one layer; writes <layer>.json and <layer>.npz."""
    reporter.info(f"{layer}: matching, mutual information, sparse prediction, clusters")
    pairs, summary, al, s = _one_to_one(layer, len(nets), config, folder)
    A, B, peaks = samples[layer]
    mi, mi_matrix = _mi_comparison(A, B, config)
    sparse, sp = _sparse(A, B, config.n_sample_images, al.bipartite_ab, config)
    spectral, orders = _many_to_many(s, config)
    order_a, order_b = al.order("sorted")
    result = {
        "layer": layer,
        "units": int(s.corr_between.shape[0]),
        "samples": int(s.n_samples),
        "pairs": pairs,
        "mean_over_pairs": summary,
        "mi": mi,
        "sparse": sparse,
        "spectral": spectral,
    }
    f32 = np.float32
    folder.write_npz(
        f"{layer}.npz",
        corr_within_a=s.corr_within_a.astype(f32),
        corr_within_b=s.corr_within_b.astype(f32),
        corr_between=s.corr_between.astype(f32),
        order_a=order_a,
        order_b=order_b,
        bipartite_ab=al.bipartite_ab,
        semi_ab=al.semi_ab,
        semi_ab_corr=al.semi_ab_corr.astype(f32),
        bipartite_corr=al.bipartite_corr.astype(f32),
        within_a_corr=al.within_a_corr.astype(f32),
        mi=mi_matrix.astype(f32),
        sparse_weights=sp.weights.astype(f32),
        cluster_order_eigengap=orders["eigengap"][0],
        cluster_bounds_eigengap=orders["eigengap"][1],
        cluster_order_fixed=orders["fixed"][0],
        cluster_bounds_fixed=orders["fixed"][1],
    )
    if config.patches and peaks is not None:
        _patches(layer, nets, images, peaks, al, folder)
    folder.write_json(f"{layer}.json", result)  # last: its presence marks the step done


def _patches(layer, nets, images, peaks, al, folder, n_pairs=3):
    """Top-9 patches of the n_pairs best and worst bipartite pairs (nets 0, 1)."""
    live = np.flatnonzero(np.isfinite(al.bipartite_corr))
    ranked = live[np.argsort(-al.bipartite_corr[live], kind="stable")]
    chosen = np.concatenate((ranked[:n_pairs], ranked[-n_pairs:]))
    field = receptive_field(nets[0], layer)
    H, W = nets[0].activations(nets[0].preprocess(images[:1]), [layer])[layer].shape[2:]
    patches_a, patches_b = [], []
    for u in chosen:
        v = al.bipartite_ab[u]
        patches_a.append(_top_patches(images, *peaks[0], u, field, (H, W)))
        patches_b.append(_top_patches(images, *peaks[1], v, field, (H, W)))
    folder.write_npz(
        f"patches-{layer}.npz",
        units_a=chosen,
        units_b=al.bipartite_ab[chosen],
        corr=al.bipartite_corr[chosen],
        patches_a=np.stack(patches_a),
        patches_b=np.stack(patches_b),
    )


def _check_config(folder, record):
    """Refuse to mix results: the folder's study.json must describe this very study."""
    if folder.has("study.json"):
        found = folder.read_json("study.json")
        if {k: found.get(k) for k in ("config", "nets")} != {
            k: record[k] for k in ("config", "nets")
        }:
            raise ValueError(
                f"{folder.path} holds the analyses of another study "
                f"({folder.path / 'study.json'}); choose another folder or delete it"
            )
    else:
        folder.write_json("study.json", record)


def analyze(nets, images, config, out, nets_info=None, reporter=None):
    """Run every analysis of the study into the folder ``out`` (see the module docstring).

    Parameters
    ----------
    nets : list of Net (at least two), trained alike but for the seed
    images : (N, 3, 32, 32) uint8 test images; config.n_images of them,
        drawn at random (config.seed), feed the statistics, and another
        random draw of config.n_sample_images the samples (first half: the
        lasso's fit, second half: its score)
    config : StudyConfig
    out : folder of the analysis files; created, resumed when it holds
        part of this very study
    nets_info : list of dicts (one per net: seed, accuracy, ...) recorded in
        study.json for the report

    Returns
    -------
    Path of the folder.
    """
    if len(nets) < 2:
        raise ValueError(f"nets must hold at least two nets, got {len(nets)}")
    unknown = [layer for layer in config.layers if layer not in nets[0].layer_names]
    if unknown or not config.layers:
        raise ValueError(
            f"config.layers must name layers of {nets[0].layer_names}, got {list(config.layers)}"
        )
    for name in ("n_images", "n_sample_images"):
        if not 2 <= getattr(config, name) <= len(images):
            raise ValueError(
                f"config.{name} must be between 2 and the {len(images)} test images, "
                f"got {getattr(config, name)}"
            )
    reporter = silent(reporter)
    folder = _Folder(out)
    folder.path.mkdir(parents=True, exist_ok=True)
    record = {
        "config": config.to_dict(),
        "nets": nets_info or [{"index": k} for k in range(len(nets))],
        "arch": nets[0].arch,
        "version": __version__,
    }
    _check_config(folder, record)
    if not folder.has("filters.npz"):
        folder.write_npz(
            "filters.npz",
            layer=np.array(nets[0].layers[0].name),
            **{f"net{k}": nets[k].layers[0].params["weight"] for k in (0, 1)},
        )
    # Random subsets, not the first images: a data set stored class by class
    # (an image folder) would otherwise give the statistics a few classes
    # only, and the lasso's two halves different classes.
    pick_rng, position_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(2)
    )
    shuffled = pick_rng.permutation(len(images))
    _statistics(
        nets, images[np.sort(shuffled[: config.n_images])], config, folder, reporter
    )
    todo = [layer for layer in config.layers if not folder.has(f"{layer}.json")]
    if todo:
        sample_images = images[shuffled[: config.n_sample_images]]
        samples = _samples(
            nets,
            sample_images,
            dataclasses.replace(config, layers=tuple(todo)),
            position_rng,
            reporter,
        )
        for layer in todo:
            _layer(layer, nets, sample_images, samples, config, folder, reporter)
            del samples[layer]
    return folder.path


def load_layer(folder, layer):
    """(numbers, arrays) of one analysed layer: the <layer>.json dict and the <layer>.npz arrays."""
    folder = _Folder(folder)
    numbers = folder.read_json(f"{layer}.json")
    with np.load(folder.path / f"{layer}.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return numbers, arrays
