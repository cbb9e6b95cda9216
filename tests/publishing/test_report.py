"""The segment report: its files, its Dagster metadata, and how it renders in headless Chromium."""

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from assets.publishing import open_published, publish
from assets.report import build_report, charts, segment_report
from orchestration.resources import StrataPaths
from orchestration.settings import load_settings
from tests.publishing.conftest import in_ci

CHARTS = ["whale_curve", "strata_map", "revenue_margin_quadrant", "kpi_trends", "maturity_transitions",
          "clv_p_alive", "clv_predicted_margin", "clv_backtest"]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Headless Chromium (Debian's `chromium`); installed here in CI if missing, else the test skips."""
    found = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    if found:
        return found
    if not in_ci():
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI installs it")
    if shutil.which("apt-get") and os.geteuid() == 0:
        for command in (
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
        ):
            subprocess.run(
                command,
                check=False,
                capture_output=True,
                timeout=900,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
    found = shutil.which("chromium")
    if not found:
        pytest.fail("CI=true and chromium is missing and could not be installed with apt-get", pytrace=False)
    return found


@pytest.fixture
def report(warehouse, out_dir):
    publish(warehouse, out_dir, "report-run")
    return build_report(open_published(out_dir), load_settings(), out_dir / "report")


def _png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_money_is_formatted_with_thousands_separators():
    assert charts.money_text(1234567.891, "USD") == "USD 1,234,568"
    assert charts.money_text(-1234.5, decimals=2) == "−1,234.50"
    from decimal import Decimal

    assert charts.money_text(Decimal("12345678901234.56"), decimals=2) == "12,345,678,901,234.56"


def test_the_report_is_one_self_contained_page_with_every_chart(report, out_dir):
    page = (out_dir / "report" / "index.html").read_text(encoding="utf-8")
    for name in CHARTS:
        match = re.search(rf'id="chart-{name}"[^>]*src="data:image/png;base64,([^"]+)"', page)
        assert match, name
        width, height = _png_size(base64.b64decode(match[1]))
        assert width > 300 and height > 150
        assert (out_dir / "report" / f"{name}.png").read_bytes() == base64.b64decode(match[1])
    assert 'src="http' not in page and "<link" not in page  # nothing fetched from elsewhere
    assert "Reconciliation to the ledger" in page and "(USD)" in page
    assert re.search(r"\d{1,3}(,\d{3})+\.\d{2}", page)  # money with thousands separators and cents
    assert [c.name for c in report.charts] == CHARTS


def test_charts_without_data_still_render(tmp_path):
    import pandas as pd

    empty = pd.DataFrame()
    for png in (
        charts.whale_curve(empty, "–", "USD"),
        charts.strata_map(empty, "–", 0.7, 0.5),
        charts.kpi_trends(empty, empty, [], "USD"),
        charts.transition_matrix(empty, "–"),
    ):
        assert _png_size(png)[0] > 300


def test_the_asset_puts_every_chart_in_its_metadata(warehouse, out_dir):
    publish(warehouse, out_dir, "report-asset")
    result = dg.materialize(
        [segment_report],
        resources={"paths": StrataPaths(landing_dir=str(out_dir / "landing"), out_dir=str(out_dir))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    [mat] = [e.materialization for e in result.get_asset_materialization_events()]
    for name in CHARTS:
        text = mat.metadata[f"chart/{name}"].value
        assert text.startswith("![") and "](data:image/png;base64," in text
        width, _ = _png_size(base64.b64decode(text.split("base64,", 1)[1].rstrip(")")))
        assert width == 760  # a compact copy: the event log keeps one per run
    assert mat.metadata["report"].value == str(out_dir / "report" / "index.html")
    assert "| REVENUE |" in mat.metadata["reconciliation"].value


PROBE = """<script>
window.addEventListener("load", function () {
  var found = [];
  for (var i = 0; i < document.images.length; i++) {
    var img = document.images[i];
    found.push({id: img.id, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight});
  }
  document.body.setAttribute("data-probe", JSON.stringify(found));
});
</script>"""


def _chromium(binary: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--mute-audio",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_report_renders_in_headless_chromium(report, out_dir, tmp_path, chromium):
    # A copy of the page with a probe that records, after load, what every <img> decoded to.
    probe_page = tmp_path / "probe.html"
    page = (out_dir / "report" / "index.html").read_text(encoding="utf-8")
    probe_page.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _chromium(chromium, "--virtual-time-budget=10000", "--dump-dom", probe_page.as_uri())
    match = re.search(r'data-probe="([^"]*)"', dom.stdout)
    assert match, dom.stderr[-2000:]
    images = json.loads(html.unescape(match[1]))
    assert [i["id"] for i in images] == [f"chart-{n}" for n in CHARTS]
    for image in images:
        assert image["complete"] and image["width"] > 300 and image["height"] > 150, image

    shot = tmp_path / "report.png"
    _chromium(chromium, "--window-size=1280,5200", f"--screenshot={shot}", report.path.as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[0] >= 5000 and pixels.shape[1] == 1280
    assert pixels.std() > 20  # not blank
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500  # charts, not a flat page
