"""The report's CSV tables and the JSON-ready pieces of summary.json."""

import csv

import numpy as np

from .._files import atomic_write
from ..study import PAPER

__all__ = ["finite", "per_unit", "write_tables"]


# The per-unit arrays behind the curves, the filter labels and the orders
# of the figures (the matrices themselves stay in the analysis folder's npz).
_PER_UNIT = (
    "bipartite_ab",
    "bipartite_corr",
    "semi_ab",
    "semi_ab_corr",
    "within_a_corr",
    "order_a",
    "order_b",
    "cluster_order_fixed",
    "cluster_bounds_fixed",
    "cluster_order_eigengap",
    "cluster_bounds_eigengap",
)


def per_unit(arrays):
    """{name: list} of a layer's per-unit arrays (nets 0 and 1), NaN as null."""
    out = {}
    for name in _PER_UNIT:
        a = arrays[name]
        if a.dtype.kind == "f":
            out[name] = [None if not np.isfinite(v) else round(float(v), 6) for v in a]
        else:
            out[name] = a.tolist()
    return out


def finite(tree):
    """The summary with NaN and inf as null: strict JSON, which every parser reads."""
    if isinstance(tree, dict):
        return {k: finite(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [finite(v) for v in tree]
    if isinstance(tree, float) and not np.isfinite(tree):
        return None
    return tree


def _write_csv(path, header, rows):
    with atomic_write(path, "w") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


# Each table's columns, named once: the CSV header and the keys read from summary.json.
_ONE_TO_ONE = (
    "semi",
    "semi_min",
    "semi_max",
    "bipartite",
    "bipartite_min",
    "bipartite_max",
)
_PAIRS = (
    "semi",
    "semi_ba",
    "bipartite",
    "within_best_a",
    "unique_share_a",
    "unique_share_b",
    "dead_a",
    "dead_b",
)
_MI = ("samples", "agreement_semi", "agreement_bipartite", "mean_best_mi")
_SPARSE = ("alphas", "mean_nmse", "mean_nonzeros", "median_nonzeros")
_SPECTRAL = ("n_clusters", "mixed", "shared_fraction", "largest")


def write_tables(out, summary, layers):
    """Write the CSV tables into out/tables; returns their paths relative to out."""
    L = summary["layers"]
    nets = summary["study"]["nets"]
    tables = {
        "nets.csv": (
            ["net", "seed", "test_accuracy"],
            [[k, n.get("seed"), n.get("test_accuracy")] for k, n in enumerate(nets)],
        ),
        "one_to_one.csv": (
            [
                "layer",
                "units",
                *_ONE_TO_ONE,
                "unique_share",
                "paper_semi",
                "paper_bipartite",
            ],
            [
                [la, L[la]["units"]]
                + [
                    L[la]["mean_over_pairs"][k]
                    for k in (*_ONE_TO_ONE, "unique_share_a")
                ]
                + [PAPER["semi"].get(la), PAPER["bipartite"].get(la)]
                for la in layers
            ],
        ),
        "pairs.csv": (
            ["layer", "pair", *_PAIRS],
            [
                [la, pair, *(v[k] for k in _PAIRS)]
                for la in layers
                for pair, v in L[la]["pairs"].items()
            ],
        ),
        "mutual_information.csv": (
            ["layer", *_MI],
            [[la, *(L[la]["mi"][k] for k in _MI)] for la in layers],
        ),
        "sparse_prediction.csv": (
            ["layer", "alpha", *_SPARSE[1:]],
            [
                [la, *(L[la]["sparse"][k][i] for k in _SPARSE)]
                for la in layers
                for i in range(len(L[la]["sparse"]["alphas"]))
            ],
        ),
        "spectral.csv": (
            ["layer", "k_choice", *_SPECTRAL],
            [
                [la, kind, *(L[la]["spectral"][kind][k] for k in _SPECTRAL)]
                for la in layers
                for kind in ("eigengap", "fixed")
            ],
        ),
    }
    for name, (header, rows) in tables.items():
        _write_csv(out / "tables" / name, header, rows)
    return [f"tables/{name}" for name in tables]
