"""The study end to end: the demo, the report's page, figures, tables and summary.json."""

import csv
import html.parser
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlearn import __main__ as cli
from convlearn import __version__, demo
from convlearn.report import format_number, write_report

VOID = {"meta", "img", "br", "hr", "link", "input"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny full study: two small nets, one epoch, on the synthetic set."""
    out = tmp_path_factory.mktemp("study") / "report"
    code = demo.main(["--out", str(out), "--epochs", "1", "--images", "300", "--quiet"])
    assert code == 0
    return out


class _Page(html.parser.HTMLParser):
    """Collects tags (checking that they nest), images, headings and number spans."""

    def __init__(self):
        super().__init__()
        self.stack, self.images, self.headings, self.numbers = [], [], [], []
        self.text_outside_numbers = []
        self._in_num = self._in_style = False
        self._heading = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "span" and attrs.get("class") == "num":
            self._in_num = True
            self.numbers.append([attrs["data-key"], attrs["data-fmt"], ""])
        self._in_style |= tag == "style"
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = ""

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (
            f"</{tag}> closes <{self.stack[-1:]}>"
        )
        self.stack.pop()
        if tag == "span":
            self._in_num = False
        if tag == "style":
            self._in_style = False
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(self._heading)
            self._heading = None

    def handle_data(self, data):
        if self._in_num:
            self.numbers[-1][2] += data
        elif self._heading is not None:  # section numbers ("3.1") are not results
            self._heading += data
        elif not self._in_style:
            self.text_outside_numbers.append(data)


def _parse(path):
    page = _Page()
    page.feed(Path(path).read_text())
    page.close()
    assert page.stack == [], f"unclosed tags {page.stack}"
    return page


def _lookup(summary, key):
    node = summary
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_demo_prints_where_the_report_is(run, capsys, tmp_path):
    # the module fixture ran quietly; a second run on the same folder reuses everything
    code = demo.main(["--out", str(run), "--epochs", "1", "--images", "300", "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"the report: {(run / 'index.html').resolve()}" in printed
    assert "pass --data PATH" in printed and "--preset paper" in printed


def test_page_parses_with_sections_in_the_papers_order(run):
    page = _parse(run / "index.html")
    numbered = [h.split()[0] for h in page.headings if h[0].isdigit()]
    assert numbered == ["2.", "3.", "3.1", "3.2", "4.", "5."]
    assert "The nets" in page.headings and page.headings[-1] == "Reproduce"


def test_every_image_exists_and_decodes(run):
    page = _parse(run / "index.html")
    assert len(page.images) >= 20
    for src in page.images:
        with Image.open(run / src) as im:
            im.load()
            assert im.width > 100 and im.height > 50
    on_disk = {f"figures/{p.name}" for p in (run / "figures").iterdir()}
    assert on_disk == set(page.images)  # every figure drawn is shown
    assert any("patches-conv1" in src for src in page.images)


def test_every_number_on_the_page_is_in_summary_json(run):
    summary = json.loads((run / "summary.json").read_text())
    page = _parse(run / "index.html")
    assert len(page.numbers) > 50
    for key, fmt, text in page.numbers:
        assert text == format_number(_lookup(summary, key), fmt), key
    # and no number is written on the page any other way (the version aside)
    text = " ".join(page.text_outside_numbers).replace(f"convlearn {__version__}", "")
    loose = re.findall(r"\d+\.\d+|\d+%", text)
    assert loose == []


def test_summary_records_the_study(run):
    summary = json.loads((run / "summary.json").read_text())
    assert summary["convlearn_version"] == __version__
    study = summary["study"]
    assert [n["seed"] for n in study["nets"]] == [0, 1]
    assert study["arch"] == "small"
    assert study["config"]["layers"] == ["conv1", "conv2", "conv3", "fc4"]
    assert study["config"]["n_images"] == 300
    for n in study["nets"]:
        assert (
            0.1 <= n["test_accuracy"] <= 1
        )  # one epoch on the synthetic set learns something
    assert summary["figures"] and summary["tables"]


def test_csv_tables_hold_the_summary_numbers(run):
    summary = json.loads((run / "summary.json").read_text())
    rows = list(csv.DictReader((run / "tables" / "one_to_one.csv").open()))
    assert [r["layer"] for r in rows] == summary["study"]["config"]["layers"]
    for r in rows:
        means = summary["layers"][r["layer"]]["mean_over_pairs"]
        assert (
            float(r["semi"]) == means["semi"]
            and float(r["bipartite"]) == means["bipartite"]
        )
    sparse = list(csv.DictReader((run / "tables" / "sparse_prediction.csv").open()))
    conv1 = [r for r in sparse if r["layer"] == "conv1"]
    assert [float(r["mean_nmse"]) for r in conv1] == summary["layers"]["conv1"][
        "sparse"
    ]["mean_nmse"]
    for name in summary["tables"]:
        assert (run / name).stat().st_size > 0


def test_report_without_patches_says_how_to_draw_them(run, tmp_path):
    out = tmp_path / "plain"
    write_report(run / "analysis", out, patches=True)
    assert list((out / "figures").glob("patches-*"))
    # Regression: a second report without patches into the same folder kept the
    # first one's patch figures (pixels of the data set) on disk.
    write_report(run / "analysis", out, patches=False)
    page = _parse(out / "index.html")
    assert not [s for s in page.images if "patches" in s]
    assert not list((out / "figures").glob("patches-*"))
    text = (out / "index.html").read_text()
    assert "leaves out the image patches" in text and "python -m convlearn.demo" in text
    assert json.loads((out / "summary.json").read_text())["patches_included"] is False


def test_analyze_and_report_commands_rerun_one_step(run, tmp_path, capsys):
    analysis = tmp_path / "analysis"
    nets = ["--runs", str(run / "nets"), "--seeds", "0", "1"]
    small = ["--n-train", "6000", "--n-test", "2000"]  # the demo's synthetic set
    rest = [
        "--out",
        str(analysis),
        "--layers",
        "conv1",
        "conv3",
        "--images",
        "200",
        "--sample-images",
        "100",
        "--positions",
        "4",
        "--quiet",
    ]
    assert cli.main(["analyze", *nets, *small, *rest]) == 0
    assert "python -m convlearn report --analysis" in capsys.readouterr().out
    layers = json.loads((analysis / "study.json").read_text())["config"]["layers"]
    assert layers == ["conv1", "conv3"]
    code = cli.main(
        ["report", "--analysis", str(analysis), "--out", str(tmp_path / "r"), "--quiet"]
    )
    assert code == 0
    assert (tmp_path / "r" / "index.html").exists()
    assert (tmp_path / "r" / "figures" / "curves-conv3.png").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"small": []}, "were trained on another data set than this one"),
        ({"seeds": ["0"]}, "--seeds must name at least two distinct nets, got [0]"),
        ({"seeds": ["0", "0"]}, "--seeds must name at least two distinct nets"),
        ({"seeds": ["0", "7"]}, "holds no trained net for seeds [7]"),
        (
            {"layers": ["pool1"]},
            "--layers must name distinct conv or fc layers of the 'small' net",
        ),
        ({"layers": ["fc5"]}, "(conv1, conv2, conv3, fc4), got ['fc5']"),
    ],
)
def test_analyze_command_refuses_bad_input(run, tmp_path, capsys, change, message):
    args = {
        "seeds": ["0", "1"],
        "small": ["--n-train", "6000", "--n-test", "2000"],
        "layers": ["conv1"],
    }
    args.update(change)
    argv = [
        "analyze",
        "--runs",
        str(run / "nets"),
        "--seeds",
        *args["seeds"],
        *args["small"],
        "--layers",
        *args["layers"],
        "--out",
        str(tmp_path / "a"),
        "--quiet",
    ]
    assert cli.main(argv) == 1
    assert message in capsys.readouterr().err


def test_report_of_an_analysis_without_nets_info(tmp_path):
    """Regression: analyze() without nets_info recorded no seeds, and the report raised KeyError."""
    from convlearn.datasets import synthetic
    from convlearn.nn.model import build
    from convlearn.study import StudyConfig, analyze

    images = synthetic(10, 60, seed=1).x_test
    nets = [build("tiny", seed=s) for s in (0, 1)]
    config = StudyConfig(
        layers=("conv2",), n_images=60, n_sample_images=40, positions=4
    )
    analyze(nets, images, config, tmp_path / "a")
    index = write_report(tmp_path / "a", tmp_path / "r")
    page = _parse(index)
    assert page.images and "n/a" in index.read_text()


def test_demo_on_a_small_image_folder(tmp_path, capsys):
    """Regression: the small preset cut every data set to 6,000 / 2,000 images, which a
    small image folder cannot give; real data is now used whole."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 4), ("test", 3)):
        for c in range(10):
            folder = tmp_path / "images" / split / f"class{c}"
            folder.mkdir(parents=True)
            for i in range(n):
                pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    argv = [
        "--data",
        str(tmp_path / "images"),
        "--out",
        str(tmp_path / "r"),
        "--epochs",
        "1",
        "--quiet",
    ]
    assert demo.main(argv) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["study"]["config"]["n_images"] == 30  # every test image
    assert "the report:" in capsys.readouterr().out


def test_report_of_a_missing_or_partial_analysis(run, tmp_path, capsys):
    with pytest.raises(ValueError, match="holds no study.json"):
        write_report(tmp_path, tmp_path / "r")
    partial = tmp_path / "partial"
    shutil.copytree(run / "analysis", partial)
    (partial / "conv2.json").unlink()
    with pytest.raises(ValueError, match=r"no results for layers \['conv2'\]"):
        write_report(partial, tmp_path / "r")
    shutil.copy(run / "analysis" / "conv2.json", partial / "conv2.json")
    (partial / "conv3.npz").write_bytes(b"random bytes, no archive")
    with pytest.raises(
        ValueError, match=r"conv3.npz: damaged or unreadable \(not an .npz archive"
    ):
        write_report(partial, tmp_path / "r")
    shutil.copy(run / "analysis" / "conv3.npz", partial / "conv3.npz")
    (partial / "conv1.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="conv1.npz: damaged or unreadable"):
        write_report(partial, tmp_path / "r")
    (partial / "study.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="study.json: not a convlearn study record"):
        write_report(partial, tmp_path / "r")
    assert (
        cli.main(["report", "--analysis", str(tmp_path), "--out", str(tmp_path / "r")])
        == 1
    )
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--nets", "1"], "--nets must be at least 2, got 1"),
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--preset", "huge"], "invalid choice: 'huge'"),
    ],
)
def test_demo_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        demo.main(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_demo_bad_layer_and_data(tmp_path, capsys):
    assert (
        demo.main(["--out", str(tmp_path / "a"), "--data", str(tmp_path / "nowhere")])
        == 1
    )
    assert "does not exist" in capsys.readouterr().err
    # checked before any training, so a fresh folder stays empty
    for layers in (["conv9"], ["pool1"], ["conv1", "conv1"]):
        argv = ["--out", str(tmp_path / "b"), "--layers", *layers, "--quiet"]
        assert demo.main(argv) == 1
        assert (
            "--layers must name distinct conv or fc layers" in capsys.readouterr().err
        )
    assert not (tmp_path / "b").exists()
    (tmp_path / "file").write_text("x")
    assert demo.main(["--out", str(tmp_path / "file"), "--quiet"]) == 1
    assert "is a file; it must be a folder" in capsys.readouterr().err
    assert demo.main(["--out", str(tmp_path / "file" / "sub"), "--quiet"]) == 1
    assert (
        f"{tmp_path / 'file'} is a file; it must be a folder" in capsys.readouterr().err
    )


def test_demo_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        demo.main(["--help"])
    text = capsys.readouterr().out
    for flag in (
        "--preset",
        "--data",
        "--out",
        "--runs",
        "--nets",
        "--epochs",
        "--layers",
        "--seed",
        "--images",
        "--no-patches",
        "--quiet",
    ):
        assert flag in text


def test_format_number():
    assert format_number(0.8437, ".0%") == "84%"
    assert format_number(float("nan"), ".2f") == "n/a"
    assert format_number(None, "d") == "n/a"
    assert format_number(np.float64(0.5), ".2f") == "0.50"


def _chromium():
    """Path of Debian's chromium (installed by .ci/run), or None."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_page_renders_in_a_real_browser(run):
    """Headless Chromium: every image rendered (natural width > 0), no console error."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is a test extra"
    )
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip(
            "no chromium on PATH (Debian's package 'chromium'; .ci/run installs it)"
        )
    errors = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((run / "index.html").resolve().as_uri(), wait_until="load")
            widths = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => i.complete && i.naturalWidth)"
            )
            title = page.title()
        finally:
            browser.close()
    assert len(widths) >= 20
    assert all(w > 0 for w in widths), widths
    assert errors == []
    assert title.startswith("convlearn")


RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


def test_committed_report_is_whole_small_and_pixel_free():
    """docs/results: the real run's report, under 5 MB without the nets, no data-set pixels."""
    files = [p for p in RESULTS.rglob("*") if p.is_file() and "nets" not in p.parts]
    assert sum(p.stat().st_size for p in files) < 5 * 2**20
    assert not list(RESULTS.glob("figures/patches-*"))
    page = _parse(RESULTS / "index.html")
    summary = json.loads((RESULTS / "summary.json").read_text())
    assert summary["patches_included"] is False
    assert set(page.images) == {
        f"figures/{p.name}" for p in (RESULTS / "figures").iterdir()
    }
    for src in page.images:
        with Image.open(RESULTS / src) as im:
            im.load()
    for key, fmt, text in page.numbers:
        assert text == format_number(_lookup(summary, key), fmt), key
    study = summary["study"]
    assert study["arch"] == "paper" and len(study["nets"]) == 4
    assert study["config"]["layers"] == [
        "conv1",
        "conv2",
        "conv3",
        "conv4",
        "conv5",
        "fc6",
        "fc7",
    ]
    for net in study["nets"]:  # the accuracies the nets' own histories record
        history = json.loads(
            (RESULTS / "nets" / f"net-{net['seed']}.history.json").read_text()
        )
        assert net["test_accuracy"] == history["history"][-1]["test_accuracy"]
    assert len(summary["layers"]["conv1"]["pairs"]) == 6


def test_readme_results_tables_match_the_committed_summary():
    """The README's Results tables are the committed summary.json's numbers, not stale copies."""
    readme = (RESULTS.parents[1] / "README.md").read_text()
    layers = json.loads((RESULTS / "summary.json").read_text())["layers"]
    for layer, v in layers.items():
        m = v["mean_over_pairs"]
        row = next(
            r
            for r in readme.splitlines()
            if r.startswith(f"| {layer} | {v['units']} | ")
        )
        assert f"{m['semi']:.3f} ({m['semi_min']:.2f}-{m['semi_max']:.2f})" in row
        assert (
            f"{m['bipartite']:.3f} ({m['bipartite_min']:.2f}-{m['bipartite_max']:.2f})"
            in row
        )
        assert f"{m['unique_share_a']:.0%}" in row
        mi = v["mi"]
        assert f"{mi['agreement_semi']:.0%} / {mi['agreement_bipartite']:.0%}" in row
        sp = v["sparse"]
        row = next(r for r in readme.splitlines() if r.startswith(f"| {layer} ("))
        cells = [
            f"{e:.3f} / {n:.1f}" for e, n in zip(sp["mean_nmse"], sp["mean_nonzeros"])
        ]
        assert row.split(" | ")[1:] == cells[:-1] + [cells[-1] + " |"]
