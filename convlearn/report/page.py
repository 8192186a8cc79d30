"""The page and its figures: HTML built part by part, numbers only from summary.json.

Every number on the page is written by ``Page.num`` from a dotted path into
summary.json (``<span class="num" data-key="layers.conv1.mi.agreement_semi"
data-fmt=".0%">84%</span>``), so a test can check each one against the file.
"""

import html
from pathlib import Path

import numpy as np

from .. import viz

__all__ = ["HEATMAP_COLORS", "Figures", "Page", "format_number", "lookup"]


def lookup(tree, key):
    """summary[key] for a dotted key; list items by index ("sparse.alphas.2")."""
    node = tree
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def format_number(value, fmt):
    """How the page writes a number: ``format(value, fmt)``, "n/a" for NaN or None."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    return format(value, fmt)


class Page:
    """The HTML page, built part by part; numbers only through ``num``."""

    def __init__(self, summary):
        self.summary = summary
        self.parts = []

    def num(self, key, fmt=".2f"):
        text = format_number(lookup(self.summary, key), fmt)
        return f'<span class="num" data-key="{key}" data-fmt="{fmt}">{text}</span>'

    def add(self, markup):
        self.parts.append(markup)

    def heading(self, text, level=2):
        self.add(f"<h{level}>{html.escape(text)}</h{level}>")

    def para(self, markup):
        self.add(f"<p>{markup}</p>")

    def figure(self, path, caption):
        self.add(
            f'<figure><img src="{path}" alt="{html.escape(caption[:80], quote=True)}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )

    def table(self, header, rows):
        """header and rows: cells already marked up (num spans or plain text)."""
        head = "".join(f"<th>{h}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows
        )
        self.add(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def html(self, title):
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
            "<body>\n" + "\n".join(self.parts) + "\n</body></html>\n"
        )


_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
    "line-height:1.45;color:#222}figure{margin:1.2em 0}img{max-width:100%;"
    "border:1px solid #ddd}figcaption{font-size:.92em;color:#444;max-width:820px}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
    "padding:.25em .6em;text-align:right}th{background:#f3f3f3}"
    ".gallery{display:flex;flex-wrap:wrap;gap:1em}.gallery figure{flex:0 1 calc(50% - 1em);"
    "margin:0}.gallery img{width:100%}"
    "code{background:#f5f5f5;padding:0 .2em}"
)


# Heatmaps are stored as 256-colour palette PNGs: about a third of the size of
# RGB (the committed report must stay under 5 MB), each pixel within a few
# levels of its RGB colour.
HEATMAP_COLORS = 256


class Figures:
    """Draws and saves the figures; returns their paths relative to the page."""

    def __init__(self, out):
        self.out = Path(out)
        self.written = []

    def save(self, image, name, colors=None):
        viz.save(image, self.out / "figures" / name, colors)
        self.written.append(f"figures/{name}")
        return f"figures/{name}"

    def remove_stale(self):
        """Delete the PNGs an earlier report left in figures/ that this one did not draw.

        A report written with patches=False must not keep an earlier run's
        image patches (pixels of the data set) beside it.
        """
        for path in (self.out / "figures").glob("*.png"):
            if f"figures/{path.name}" not in self.written:
                path.unlink()
        for path in (self.out / "figures").glob(
            ".*.tmp"
        ):  # of a report killed while saving
            path.unlink()
