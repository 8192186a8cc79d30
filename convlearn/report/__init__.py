"""The study's report: index.html, summary.json, CSV tables and PNG figures.

``write_report(analysis, out)`` reads an analysis folder written by
``convlearn.study.analyze`` and writes into ``out``::

    index.html      the sections in the paper's order, each figure captioned
    summary.json    every number the page shows (and more), with the study's
                    configuration, the nets' seeds and the package version
    tables/*.csv    the page's tables
    figures/*.png   heatmaps, curves, bars, filter grids (and image patches)

The package: ``page`` (the HTML page, whose every number comes from
summary.json, and the figures), ``sections`` (one function per section of
the paper), ``tables`` (the CSV tables).
"""

import json
from pathlib import Path

from .. import __version__
from .._files import atomic_write
from ..progress import silent
from ..study import PAPER, load_layer
from . import sections
from .page import Figures, Page, format_number
from .tables import finite, per_unit, write_tables

__all__ = ["format_number", "write_report"]


def write_report(analysis, out, patches=True, reporter=None):
    """Write the report of an analysis folder into ``out``; returns the path of index.html.

    Parameters
    ----------
    analysis : folder written by ``convlearn.study.analyze``
    out : folder for index.html, summary.json, tables/ and figures/
    patches : draw the image-patch sections when the analysis holds them;
        False leaves them out (and says how to draw them), as the committed
        report must, holding no pixels of the data set
    """
    reporter = silent(reporter)
    analysis, out = Path(analysis), Path(out)
    study_file = analysis / "study.json"
    if not study_file.exists():
        raise ValueError(
            f"analysis folder {analysis} holds no study.json: run "
            "'python -m convlearn analyze' (or the demo) first"
        )
    try:
        study = json.loads(study_file.read_text())
        layers = list(study["config"]["layers"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{study_file}: not a convlearn study record ({e})") from e
    missing = [layer for layer in layers if not (analysis / f"{layer}.json").exists()]
    if missing:
        raise ValueError(
            f"{analysis} has no results for layers {missing} yet: rerun the analysis to finish it"
        )
    data = {layer: load_layer(analysis, layer) for layer in layers}
    patch_files = {
        layer: analysis / f"patches-{layer}.npz"
        for layer in layers
        if (analysis / f"patches-{layer}.npz").exists()
    }
    draw_patches = bool(patches and patch_files)
    summary = {
        "convlearn_version": __version__,
        "study": study,
        "paper": PAPER,
        "layers": {
            layer: {**data[layer][0], "per_unit": per_unit(data[layer][1])}
            for layer in layers
        },
        "patches_included": draw_patches,
    }
    page = Page(summary)
    figs = Figures(out)
    reporter.info(
        f"report: drawing the figures of {len(layers)} layers into {out / 'figures'}"
    )
    sections.header(page, study, layers)
    sections.section_nets(page, study)
    sections.section_correlations(page, figs, data, layers)
    sections.section_one_to_one(page, figs, data, layers)
    sections.section_filters(page, figs, analysis, data, layers)
    sections.section_patches(page, figs, patch_files, draw_patches)
    sections.section_mi(page, figs, data, layers)
    sections.section_sparse(page, figs, data, layers)
    sections.section_spectral(page, figs, data, layers)
    sections.footer(page)
    summary["figures"] = figs.written
    summary["tables"] = write_tables(out, summary, layers)
    figs.remove_stale()
    with atomic_write(out / "summary.json", "w") as f:
        json.dump(finite(summary), f, indent=1, allow_nan=False)
    index = out / "index.html"
    with atomic_write(index, "w") as f:
        f.write(page.html("convlearn: convergent learning study"))
    return index
