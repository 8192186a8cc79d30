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
in, with the same result as an uninterrupted run (every layer draws its
random positions from a generator of its own). A folder holding the results
of another study (another configuration, other nets or other images) is
refused rather than mixed.
"""

import dataclasses
import json
import zipfile
from pathlib import Path

import numpy as np

from . import __version__
from ._checks import check_positive_int
from ._files import array_digest, atomic_write, write_json
from .analysis.lasso import sparse_prediction
from .analysis.matching import align_units, partner_agreement
from .analysis.mutual_info import mutual_information_matrix
from .analysis.spectral import shared_subspaces
from .analysis.stats import ActivationStats, collect_stats, correlation
from .nn.layers import Conv2d, Linear
from .patches import receptive_field, top_patches
from .progress import silent

__all__ = [
    "PAPER",
    "StudyConfig",
    "analysable_layers",
    "analyze",
    "check_layers",
    "load_layer",
    "read_npz",
]

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
    drawn at random. n_sample_images / positions: the images (the first of
    the same random order, so the smaller set lies inside the larger), and
    the random positions per
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

    def __post_init__(self):
        if isinstance(self.layers, str) or not isinstance(self.layers, (tuple, list)):
            raise TypeError(
                f"config.layers must be a tuple of layer names, got {self.layers!r}"
            )
        if not self.layers or len(set(self.layers)) != len(self.layers):
            raise ValueError(
                f"config.layers must name distinct layers, at least one, got {list(self.layers)}"
            )
        for name, low in (
            ("n_images", 2),
            ("n_sample_images", 2),
            ("positions", 1),
            ("mi_bins", 2),
            ("cluster_size", 1),
            ("batch_size", 1),
            ("seed", 0),
        ):
            check_positive_int(f"config.{name}", getattr(self, name), minimum=low)
        alphas = np.asarray(self.alphas, dtype=float)
        if (
            alphas.ndim != 1
            or alphas.size == 0
            or not np.all(np.isfinite(alphas))
            or np.any(alphas < 0)
        ):
            raise ValueError(
                f"config.alphas must be a non-empty sequence of finite alphas >= 0, got {self.alphas!r}"
            )
        if not 0 < self.unique_threshold <= 1:
            raise ValueError(
                f"config.unique_threshold must be in (0, 1], got {self.unique_threshold!r}"
            )
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "alphas", tuple(float(a) for a in alphas))

    def to_dict(self):
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def analysable_layers(net):
    """The layers the study compares: every conv and fc layer with a ReLU, in order.

    The paper analyses units after their ReLU; the classifier (no ReLU) and
    the pools, normalisations and dropouts between are left out.
    """
    return [
        lay.name for lay in net.layers if isinstance(lay, (Conv2d, Linear)) and lay.relu
    ]


def check_layers(net, layers, name="config.layers"):
    """Raise a ValueError naming ``name`` unless layers are distinct analysable layers of net."""
    allowed = analysable_layers(net)
    bad = [layer for layer in layers if layer not in allowed]
    if bad or not layers or len(set(layers)) != len(layers):
        raise ValueError(
            f"{name} must name distinct conv or fc layers of the {net.arch!r} net "
            f"({', '.join(allowed)}), got {list(layers)}"
        )


# ---------------------------------------------------------------------------
# the steps


def read_npz(path):
    """{name: array} of an analysis npz file (no pickles); a damaged one is named."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        # numpy calls any unknown bytes "pickled data": say what it means here
        reason = "not an .npz archive of arrays" if "pickle" in str(e) else str(e)
        raise ValueError(
            f"{path}: damaged or unreadable ({reason}); delete it to redo the step"
        ) from e


class _Folder:
    """The analysis folder: JSON and npz files written atomically, skipped when present."""

    def __init__(self, path):
        self.path = Path(path)

    def has(self, *names):
        return all((self.path / n).exists() for n in names)

    def intact(self, *names):
        """True when every file exists and reads (a damaged one means: redo its step)."""
        try:
            for n in names:
                (self.read_json if n.endswith(".json") else self.read_npz)(n)
        except (ValueError, OSError):
            return False
        return True

    def write_json(self, name, obj):
        write_json(self.path / name, obj)

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

    def read_npz(self, name):
        return read_npz(self.path / name)


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
    if folder.intact(*names):
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


def _samples(nets, images, layers, rngs, batch_size, positions, peaks, reporter):
    """Activations of nets 0 and 1 at sampled positions, and each image's peaks.

    rngs: {layer: Generator} drawing that layer's positions (a generator per
    layer, so a layer's samples do not depend on which other layers are
    computed in the same pass). Returns {layer: (A, B, peaks, width)}: A, B
    (S, U) float32 samples, the same images and positions for both nets,
    ordered by image (up to ``positions`` random positions per image in a
    conv layer, one sample per image in an fc layer); peaks, per net,
    (peak value, flat peak position) each (n_images, U), kept only when
    ``peaks`` (for the patches) and None for an fc layer; width the layer's
    W, to unravel the positions.
    """
    kept = {
        layer: {"a": [], "b": [], "peak": ([], []), "where": ([], []), "width": None}
        for layer in layers
    }
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        acts = [net.activations(net.preprocess(batch), layers) for net in nets[:2]]
        for layer, k in kept.items():
            a, b = acts[0][layer], acts[1][layer]
            if a.ndim == 2:  # an fc layer: one sample per image
                k["a"].append(a)
                k["b"].append(b)
                continue
            N, U, H, W = a.shape
            k["width"] = W
            P = min(positions, H * W)
            # P distinct positions per image, the same for both nets
            idx = np.argsort(rngs[layer].random((N, H * W)), axis=1)[
                :, :P, None
            ]  # (N, P, 1)
            for net, x in enumerate((a, b)):
                flat = x.reshape(N, U, H * W).transpose(0, 2, 1)  # (N, HW, U)
                k["ab"[net]].append(
                    np.take_along_axis(flat, idx, axis=1).reshape(N * P, U)
                )
                if peaks:  # one pass finds the peak, the value is read off it
                    where = flat.argmax(axis=1)  # (N, U)
                    k["where"][net].append(where)
                    k["peak"][net].append(
                        np.take_along_axis(flat, where[:, None], 1)[:, 0]
                    )
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
            k["width"],
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
        values = np.array([p[key] for p in pairs.values()])
        finite = values[np.isfinite(values)]  # NaN: a pair whose layer is all dead
        low, high = (finite.min(), finite.max()) if finite.size else (np.nan, np.nan)
        summary[key + "_min"], summary[key + "_max"] = float(low), float(high)
    return pairs, summary, first, first_stats


def _mi_comparison(A, B, config):
    """Section 3's check: do matchings on mutual information pick the correlation's partners?

    Both similarities on the same samples; a dead unit (constant on them)
    has NaN correlations, and its MI row or column is set to NaN too, so it
    is no one's partner and stays out of the means, as in the correlations.
    """
    _, mi = mutual_information_matrix(A, B, config.mi_bins)  # (plug-in, corrected)
    corr = correlation(A, B)
    dead_a, dead_b = np.isnan(corr).all(axis=1), np.isnan(corr).all(axis=0)
    mi[dead_a, :] = np.nan
    mi[:, dead_b] = np.nan
    semi, bipartite = partner_agreement(mi, corr)
    best = np.full(mi.shape[0], np.nan)
    if (~dead_b).any():
        best[~dead_a] = mi[np.ix_(~dead_a, ~dead_b)].max(axis=1)
    return {
        "samples": int(A.shape[0]),
        "agreement_semi": semi,
        "agreement_bipartite": bipartite,
        "mean_best_mi": _mean(best),
    }, mi


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
        # block lines after every cluster, the last one too when dead units follow
        bounds = np.cumsum(sizes)
        orders[name] = (ss.order, bounds[bounds < len(ss.order)])
    return out, orders


def _layer(layer, nets, images, samples, config, folder, reporter):
    """Steps 2-4 for one layer; writes <layer>.npz (and patches), then <layer>.json."""
    reporter.info(f"{layer}: matching, mutual information, sparse prediction, clusters")
    pairs, summary, al, s = _one_to_one(layer, len(nets), config, folder)
    A, B, peaks, width = samples[layer]
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
        _patches(layer, nets[0], images, peaks, width, al, folder)
    folder.write_json(f"{layer}.json", result)  # last: its presence marks the step done


def _patches(layer, net, images, peaks, width, al, folder, n_pairs=3):
    """Top-9 patches of the n_pairs best and worst bipartite pairs (nets 0, 1).

    Fewer pairs when the layer has fewer than 2 * n_pairs live pairs; none
    (no file) when it has none.
    """
    live = np.flatnonzero(np.isfinite(al.bipartite_corr))
    if live.size == 0:
        return
    ranked = live[np.argsort(-al.bipartite_corr[live], kind="stable")]
    chosen = (
        ranked
        if ranked.size <= 2 * n_pairs
        else np.r_[ranked[:n_pairs], ranked[-n_pairs:]]
    )
    field = receptive_field(net, layer)
    folder.write_npz(
        f"patches-{layer}.npz",
        units_a=chosen,
        units_b=al.bipartite_ab[chosen],
        corr=al.bipartite_corr[chosen],
        patches_a=np.stack(
            [top_patches(images, *peaks[0], u, field, width) for u in chosen]
        ),
        patches_b=np.stack(
            [
                top_patches(images, *peaks[1], al.bipartite_ab[u], field, width)
                for u in chosen
            ]
        ),
    )


def _check_config(folder, record):
    """Refuse to mix results: the folder's study.json must describe this very study."""
    if not folder.has("study.json"):
        folder.write_json("study.json", record)
        return
    found = folder.read_json("study.json")
    differ = [
        k for k in ("config", "arch", "weights", "images") if found.get(k) != record[k]
    ]
    if differ:
        raise ValueError(
            f"{folder.path} holds the analyses of another study: its {', '.join(differ)} "
            f"differ from this one's ({folder.path / 'study.json'}); choose another "
            "folder or delete it"
        )


def _digest(net):
    """A short digest of a net's weights (every parameter, in order)."""
    return array_digest(*net.params().values())


def analyze(nets, images, config, out, nets_info=None, reporter=None):
    """Run every analysis of the study into the folder ``out`` (see the module docstring).

    Parameters
    ----------
    nets : list of Net (at least two), trained alike but for the seed
    images : (N, 3, 32, 32) uint8 test images, put in a random order
        (config.seed): the first config.n_images feed the statistics, the
        first config.n_sample_images the samples (first half of those: the
        lasso's fit, second half: its score)
    config : StudyConfig
    out : folder of the analysis files; created, resumed when it holds
        part of this very study
    nets_info : list of dicts (one per net: seed, test_accuracy, ...)
        recorded in study.json for the report

    A folder already holding part of a study is resumed only when its
    configuration, architecture, weights and images are this call's.

    Returns
    -------
    Path of the folder.
    """
    if len(nets) < 2:
        raise ValueError(f"nets must hold at least two nets, got {len(nets)}")
    check_layers(nets[0], config.layers)
    for name in ("n_images", "n_sample_images"):
        if not 2 <= getattr(config, name) <= len(images):
            raise ValueError(
                f"config.{name} must be between 2 and the {len(images)} test images, "
                f"got {getattr(config, name)}"
            )
    reporter = silent(reporter)
    folder = _Folder(out)
    folder.path.mkdir(parents=True, exist_ok=True)
    # Random subsets, not the first images: a data set stored class by class
    # (an image folder) would otherwise give the statistics a few classes
    # only, and the lasso's two halves different classes. One generator picks
    # the images, one per layer draws its positions.
    pick, *per_layer = np.random.SeedSequence(config.seed).spawn(1 + len(config.layers))
    shuffled = np.random.default_rng(pick).permutation(len(images))
    stats_images = images[np.sort(shuffled[: config.n_images])]
    sample_images = images[shuffled[: config.n_sample_images]]
    record = {
        "config": config.to_dict(),
        "nets": nets_info or [{"seed": None} for _ in nets],
        "arch": nets[0].arch,
        "weights": [_digest(net) for net in nets],
        "images": array_digest(stats_images, sample_images),
        "version": __version__,
    }
    _check_config(folder, record)
    if not folder.has("filters.npz"):
        folder.write_npz(
            "filters.npz",
            layer=np.array(nets[0].layers[0].name),
            **{f"net{k}": nets[k].layers[0].params["weight"] for k in (0, 1)},
        )
    _statistics(nets, stats_images, config, folder, reporter)
    todo = [
        layer
        for layer in config.layers
        if not folder.intact(f"{layer}.json", f"{layer}.npz")
    ]
    if todo:
        rngs = {
            layer: np.random.default_rng(seq)
            for layer, seq in zip(config.layers, per_layer)
        }
        samples = _samples(
            nets,
            sample_images,
            todo,
            rngs,
            config.batch_size,
            config.positions,
            config.patches,
            reporter,
        )
        for layer in todo:
            _layer(layer, nets, sample_images, samples, config, folder, reporter)
            del samples[
                layer
            ]  # frees the layer's samples (the paper preset: ~150 MB each)
    return folder.path


def load_layer(folder, layer):
    """(numbers, arrays) of one analysed layer: the <layer>.json dict and the <layer>.npz arrays."""
    folder = _Folder(folder)
    return folder.read_json(f"{layer}.json"), folder.read_npz(f"{layer}.npz")
