"""The report's sections, in the paper's order: each draws its figures and writes its text.

Each ``section_*`` function takes the page, the figures, and ``data``
({layer: (numbers, arrays)} as ``convlearn.study.load_layer`` returns them)
and adds one section of the paper: 2 correlations, 3 one-to-one matching
(with the conv1 filters, the image patches and mutual information), 4
sparse prediction, 5 spectral clustering. Captions say what to look for.
"""

import html

import numpy as np

from .. import viz
from ..study import PAPER, read_npz
from .page import HEATMAP_COLORS, format_number

__all__ = [
    "footer",
    "header",
    "section_correlations",
    "section_filters",
    "section_mi",
    "section_nets",
    "section_one_to_one",
    "section_patches",
    "section_sparse",
    "section_spectral",
]


def _sorted_desc(x):
    """Finite values of x, largest first (a dead unit has none)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sort(x[np.isfinite(x)])[::-1]


def _combined(arrays, order_a=None, order_b=None):
    """(2U, 2U) [[within A, between], [between^T, within B]], optionally reordered."""
    wa, wb, cb = (
        arrays["corr_within_a"],
        arrays["corr_within_b"],
        arrays["corr_between"],
    )
    if order_a is not None:
        wa, wb, cb = (
            wa[np.ix_(order_a, order_a)],
            wb[np.ix_(order_b, order_b)],
            cb[np.ix_(order_a, order_b)],
        )
    return np.block([[wa, cb], [cb.T, wb]])


def _bars(figs, name, layers, series, title, ylabel):
    """A bar chart of shares or correlations (0 to 1) per layer, saved as ``name``."""
    return figs.save(
        viz.bars(layers, series, title=title, ylabel=ylabel, ylim=(0, 1)), name
    )


def _gallery(page, items, caption):
    """Figures two to a row, each titled by its layer, then one caption for them all."""
    page.add('<div class="gallery">')
    for path, name in items:
        page.add(
            f'<figure><img src="{path}" alt="{html.escape(name)}"><figcaption>{html.escape(name)}</figcaption></figure>'
        )
    page.add("</div>")
    page.para(caption)


def header(page, study, layers):
    """The title, the paper, and how the study sampled its images."""
    page.add("<h1>Convergent learning: do different nets learn the same features?</h1>")
    page.para(
        "A reproduction of Li, Yosinski, Clune, Lipson and Hopcroft, <i>Convergent Learning: "
        "Do different neural networks learn the same representations?</i> (ICLR 2016), "
        f"made by convlearn {html.escape(study['version'])}. Layers analysed: "
        f"{html.escape(', '.join(layers))}. Correlations over "
        f"{page.num('study.config.n_images', ',d')} test images drawn at random (every spatial "
        "position of a conv layer is a sample); mutual information and sparse prediction on "
        f"up to {page.num('study.config.positions', 'd')} random positions of each of "
        f"{page.num('study.config.n_sample_images', ',d')} random test images (one sample "
        "per image in an fc layer), nets 0 and 1."
    )


def section_nets(page, study):
    page.heading("The nets")
    nets = study["nets"]
    rows = []
    for k, net in enumerate(nets):
        acc = (
            page.num(f"study.nets.{k}.test_accuracy", ".1%")
            if net.get("test_accuracy") is not None
            else "n/a"
        )
        seed = (
            page.num(f"study.nets.{k}.seed", "d")
            if net.get("seed") is not None
            else "n/a"
        )
        rows.append([f"net {k}", seed, acc])
    page.para(
        f"{len(nets)} nets of the <code>{html.escape(study['arch'])}</code> architecture, "
        "trained alike on the same data, differing only in the seed of their initial weights "
        "and dropout masks (paper section 2)."
    )
    page.table(["net", "seed", "test accuracy"], rows)


def section_correlations(page, figs, data, layers):
    page.heading("2. Correlations within and between nets")
    page.para(
        "Each unit's activation is correlated with every unit of its own net (within-net) "
        "and of the other net (between-net). Each matrix below is "
        "[[net 0 with net 0, net 0 with net 1], [net 1 with net 0, net 1 with net 1]], "
        "units in index order; lines mark the nets."
    )
    gallery = []
    for layer in layers:
        arrays = data[layer][1]
        U = arrays["corr_between"].shape[0]
        image = viz.heatmap(
            _combined(arrays),
            title=layer,
            xlabel="unit (net 0 | net 1)",
            ylabel="unit (net 0 | net 1)",
            x_blocks=[U],
            y_blocks=[U],
        )
        gallery.append((figs.save(image, f"corr-{layer}.png", HEATMAP_COLORS), layer))
    _gallery(
        page,
        gallery,
        "Look at the diagonal blocks: within a net, units are mostly weakly correlated, with "
        "a few strongly correlated groups. The off-diagonal blocks (between nets) look like "
        "noise in index order: the nets number their units differently, which the alignments "
        "of section 3 undo.",
    )


def section_one_to_one(page, figs, data, layers):
    page.heading("3. One-to-one alignment: semi-matching and bipartite matching")
    page.para(
        "Semi-matching pairs each unit of net 0 with its most correlated unit of net 1 "
        "(several may share one); bipartite matching finds the one-to-one pairing of largest "
        "summed correlation (the assignment problem). Means over live units, averaged over "
        "every pair of nets (range over pairs in brackets); a unit is unique when no unit of "
        "the other net reaches the correlation "
        f"{page.num('study.config.unique_threshold', '.2f')}. The paper's numbers are for "
        "Net1 vs Net2, ImageNet CaffeNets."
    )
    rows = []
    for layer in layers:
        m = f"layers.{layer}.mean_over_pairs"
        paper = [
            page.num(f"paper.{kind}.{layer}", ".2f") if layer in PAPER[kind] else "–"
            for kind in ("semi", "bipartite")
        ]
        rows.append(
            [
                layer,
                page.num(f"layers.{layer}.units", "d"),
                f"{page.num(m + '.semi')} ({page.num(m + '.semi_min')}–{page.num(m + '.semi_max')})",
                paper[0],
                f"{page.num(m + '.bipartite')} ({page.num(m + '.bipartite_min')}–{page.num(m + '.bipartite_max')})",
                paper[1],
                page.num(m + ".unique_share_a", ".0%"),
                page.num(f"layers.{layer}.pairs.0-1.dead_a", "d"),
            ]
        )
    page.table(
        [
            "layer",
            "units",
            "semi-matching",
            "paper",
            "bipartite",
            "paper",
            "unique units",
            "dead units (net 0)",
        ],
        rows,
    )
    series = {
        "semi-matching": [data[la][0]["mean_over_pairs"]["semi"] for la in layers],
        "bipartite": [data[la][0]["mean_over_pairs"]["bipartite"] for la in layers],
        "paper semi": [PAPER["semi"].get(la, np.nan) for la in layers],
        "paper bipartite": [PAPER["bipartite"].get(la, np.nan) for la in layers],
    }
    path = _bars(
        figs,
        "matched-means.png",
        layers,
        series,
        "Mean correlation of matched units",
        "correlation",
    )
    page.figure(
        path,
        "Mean correlation of matched units per layer, this study (averaged over pairs of nets) "
        "beside the paper's. Look for the paper's shape: best in conv1, falling with depth, "
        "semi-matching always above bipartite matching (it may reuse a good partner).",
    )
    gallery = []
    for layer in layers:
        arrays = data[layer][1]
        image = viz.curves(
            {
                "semi-matching": _sorted_desc(arrays["semi_ab_corr"]),
                "bipartite": _sorted_desc(arrays["bipartite_corr"]),
                "within net 0": _sorted_desc(arrays["within_a_corr"]),
            },
            title=f"{layer}: matched correlations, sorted",
            xlabel="unit rank",
            ylabel="correlation",
            ylim=(0, 1),
        )
        gallery.append((figs.save(image, f"curves-{layer}.png"), layer))
    _gallery(
        page,
        gallery,
        "Per layer, nets 0 and 1: each unit's matched correlation, sorted, under semi-matching, "
        "bipartite matching and, for reference, each unit's best other unit of its own net. "
        "Where bipartite falls well below semi-matching, several units of net 0 want one unit "
        "of net 1; the right end of the curves are the unique units.",
    )
    gallery = []
    for layer in layers:
        arrays = data[layer][1]
        U = arrays["corr_between"].shape[0]
        oa, ob = arrays["order_a"], arrays["order_b"]
        image = viz.heatmap(
            _combined(arrays, oa, ob),
            title=f"{layer}, aligned",
            xlabel="matched rank (net 0 | net 1)",
            ylabel="matched rank (net 0 | net 1)",
            x_blocks=[U],
            y_blocks=[U],
        )
        gallery.append(
            (figs.save(image, f"aligned-{layer}.png", HEATMAP_COLORS), layer)
        )
    _gallery(
        page,
        gallery,
        "The matrices of section 2 with both nets' units in bipartite-matched order, best "
        "pairs first: net 1's unit k is the partner of net 0's unit k. The between-net blocks "
        "now carry a bright diagonal (the matched pairs), fading towards the unique units at "
        "the end.",
    )


def section_filters(page, figs, analysis, data, layers):
    """conv1 filters of net 0, sorted by match, beside their bipartite partners in net 1."""
    z = read_npz(analysis / "filters.npz")
    filters, conv1 = [z["net0"], z["net1"]], str(z["layer"])
    if (
        conv1 not in layers
    ):  # the filters are drawn in the order of their layer's matching
        return
    order_a, order_b = data[conv1][1]["order_a"], data[conv1][1]["order_b"]
    corr = data[conv1][1]["bipartite_corr"]
    labels_b = [format_number(float(c), ".2f") for c in corr[order_a]]
    panels = [
        viz.filter_grid(
            filters[0][order_a],
            title="net 0, sorted by match",
            labels=[f"unit {int(u)}" for u in order_a],
        ),
        viz.filter_grid(
            filters[1][order_b], title="net 1, bipartite partners", labels=labels_b
        ),
    ]
    path = figs.save(
        viz.side_by_side(panels, title=f"{conv1} filters"), "filters-conv1.png"
    )
    page.figure(
        path,
        f"The {conv1} filters of net 0 (left), sorted by how well their unit is matched, and "
        "the bipartite partner of each in net 1 (right, same position, labelled with the "
        "correlation of the pair). Look for the same edge and colour detectors at the start "
        "of both grids, and for pairs that stop resembling each other as the correlation falls.",
    )


def section_patches(page, figs, patch_files, draw):
    page.heading("3.1 What matched units respond to")
    if not draw:
        page.para(
            "This report leaves out the image patches (they hold pixels of the data set). "
            "To draw them, run the study yourself, e.g. <code>python -m convlearn.demo "
            "--preset paper --data PATH</code>, or <code>python -m convlearn report "
            "--analysis ANALYSIS --out OUT</code> on an analysis made with patches."
        )
        return
    gallery = []
    for layer, path in patch_files.items():
        z = read_npz(path)
        scale = max(
            2, 60 // z["patches_a"].shape[-1]
        )  # patches of 5 to 43 pixels, drawn 60-90 wide
        for k, (ua, ub, r) in enumerate(zip(z["units_a"], z["units_b"], z["corr"])):
            panels = [
                viz.image_grid(
                    z["patches_a"][k], scale=scale, title=f"net 0, unit {int(ua)}"
                ),
                viz.image_grid(
                    z["patches_b"][k], scale=scale, title=f"net 1, unit {int(ub)}"
                ),
            ]
            title = f"{layer}: r = {format_number(float(r), '.2f')}"
            name = figs.save(
                viz.side_by_side(panels, title=title), f"patches-{layer}-{k}.png"
            )
            gallery.append((name, f"{layer} pair {k + 1}"))
    _gallery(
        page,
        gallery,
        "For the three best and the three worst bipartite pairs of each conv layer: the nine "
        "sampled test images where each unit responds most, cut at the unit's receptive field (grey: "
        "outside the image). Well-matched pairs respond to the same patterns; badly matched "
        "ones do not.",
    )


def section_mi(page, figs, data, layers):
    page.heading("3.2 Mutual information instead of correlation")
    page.para(
        "The same matchings on the (Miller–Madow corrected) mutual information between "
        f"units, {page.num('study.config.mi_bins', 'd')} bins per unit with zero in a bin of "
        "its own, nets 0 and 1. Agreement is the share of net 0's units whose partner is the "
        "same under both similarities."
    )
    rows = [
        [
            layer,
            page.num(f"layers.{layer}.mi.samples", ",d"),
            page.num(f"layers.{layer}.mi.agreement_semi", ".0%"),
            page.num(f"layers.{layer}.mi.agreement_bipartite", ".0%"),
            page.num(f"layers.{layer}.mi.mean_best_mi", ".3f"),
        ]
        for layer in layers
    ]
    page.table(
        [
            "layer",
            "samples",
            "semi-matching agree",
            "bipartite agree",
            "mean best MI (nats)",
        ],
        rows,
    )
    series = {
        kind: [data[la][0]["mi"][f"agreement_{key}"] for la in layers]
        for kind, key in (("semi-matching", "semi"), ("bipartite", "bipartite"))
    }
    path = _bars(
        figs,
        "mi-agreement.png",
        layers,
        series,
        "Same partner under MI and correlation",
        "share of units",
    )
    page.figure(
        path,
        "The paper found the two similarities pick mostly the same partners, so the "
        "correlation-based results are not an artefact of linear similarity. High bars say "
        "the same here; lower bars in deep layers mean many near-equal candidates.",
    )


def section_sparse(page, figs, data, layers):
    page.heading("4. Few-to-one: sparse prediction")
    page.para(
        "Each unit of net 1 is predicted from all units of net 0 by a lasso (L1-penalised "
        "linear regression on standardised units), fitted on the first half of the sampled "
        "images and scored on the second. The error is the held-out 1 − R², averaged over "
        "units; a larger penalty alpha leaves fewer non-zero weights."
    )
    alphas = data[layers[0]][0]["sparse"]["alphas"]
    header = ["layer"] + [
        "alpha = " + page.num(f"study.config.alphas.{k}", "g")
        for k in range(len(alphas))
    ]
    rows = []
    for layer in layers:
        s = f"layers.{layer}.sparse"
        rows.append(
            [layer]
            + [
                f"{page.num(f'{s}.mean_nmse.{k}', '.3f')} / {page.num(f'{s}.mean_nonzeros.{k}', '.1f')}"
                for k in range(len(alphas))
            ]
        )
    page.table(header, rows)
    page.para(
        "Each cell: normalised error / mean non-zero weights per unit, at the alpha of its column."
    )
    series = {
        layer: (
            np.array(data[layer][0]["sparse"]["mean_nonzeros"])
            / data[layer][0]["units"],
            np.array(data[layer][0]["sparse"]["mean_nmse"]),
        )
        for layer in layers
    }
    path = figs.save(
        viz.curves(
            series,
            title="Sparse prediction: error against sparsity",
            xlabel="share of net 0's units with a non-zero weight (mean per unit)",
            ylabel="held-out 1 - R^2",
            ylim=(0, 1.2),
            markers=True,
        ),
        "sparse.png",
    )
    page.figure(
        path,
        "One line per layer, one point per alpha (the strongest penalty at the left); the x "
        "axis is the share of the layer's units, so layers of different widths compare. The "
        "paper's finding: in conv1 the error stays flat while the non-zero weights fall from "
        "all units to a handful (a unit of one net is a combination of a few units of the "
        "other); conv2 loses accuracy sooner (a more distributed code). An error above one "
        "(cut off at the top) is worse than predicting the mean: the least-squares end of an "
        "fc layer can overfit units that are rarely active.",
    )
    gallery = []
    mid = min(3, len(alphas) - 1)
    for layer in layers[:2]:
        W = data[layer][1]["sparse_weights"][mid]
        m = float(np.max(np.abs(W))) or 1.0
        image = viz.heatmap(
            W,
            title=f"{layer} lasso weights",
            xlabel="net 1 unit (matched order)",
            ylabel="net 0 unit",
            vmin=-m,
            vmax=m,
            colorbar_label="weight",
        )
        gallery.append(
            (figs.save(image, f"sparse-weights-{layer}.png", HEATMAP_COLORS), layer)
        )
    _gallery(
        page,
        gallery,
        f"The lasso weights at alpha = {page.num(f'study.config.alphas.{mid}', 'g')}, net 1's units in bipartite-matched "
        "order: mass on the diagonal means a unit is best predicted by its one-to-one partner; "
        "a few off-diagonal entries per column are the few-to-one part.",
    )


def section_spectral(page, figs, data, layers):
    page.heading("5. Many-to-many: spectral clustering")
    page.para(
        "Both nets' units clustered together on |correlation| (Ng–Jordan–Weiss spectral "
        "clustering), once with the number of clusters k chosen by the eigengap and once with "
        f"k = units / {page.num('study.config.cluster_size', 'd')}. A cluster is mixed when it "
        "holds units of both nets: a subspace the two nets share."
    )
    rows = []
    for layer in layers:
        s = f"layers.{layer}.spectral"
        rows.append(
            [
                layer,
                page.num(f"{s}.eigengap.n_clusters", "d"),
                page.num(f"{s}.eigengap.shared_fraction", ".0%"),
                page.num(f"{s}.fixed.n_clusters", "d"),
                page.num(f"{s}.fixed.shared_fraction", ".0%"),
                page.num(f"{s}.fixed.largest", "d"),
            ]
        )
    page.table(
        ["layer", "k (eigengap)", "mixed", "k (fixed)", "mixed", "largest cluster"],
        rows,
    )
    gallery = []
    for layer in layers:
        arrays = data[layer][1]
        order = arrays["cluster_order_fixed"]
        bounds = [int(b) for b in arrays["cluster_bounds_fixed"]]
        C = _combined(arrays)[np.ix_(order, order)]
        image = viz.heatmap(
            C,
            title=f"{layer}, by cluster",
            xlabel="unit (both nets)",
            ylabel="unit (both nets)",
            x_blocks=bounds,
            y_blocks=bounds,
        )
        gallery.append(
            (figs.save(image, f"clusters-{layer}.png", HEATMAP_COLORS), layer)
        )
    _gallery(
        page,
        gallery,
        "The combined correlation matrix with the units of both nets grouped by cluster (fixed "
        "k; lines mark clusters, dead units last). Bright blocks on the diagonal are groups of "
        "units, from both nets, that span one subspace.",
    )


def footer(page):
    page.heading("Reproduce")
    page.para(
        "<code>python -m convlearn.demo</code> (synthetic data, about a minute), "
        "<code>python -m convlearn.demo --preset paper --data PATH</code> (the full study); "
        "<code>python -m convlearn analyze</code> and <code>python -m convlearn report</code> "
        "rerun one step. Every number on this page is in summary.json; the tables are in "
        "tables/."
    )
