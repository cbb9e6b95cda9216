"""The dbt docs site (<out>/docs/index.html) and the dbt exposures of what reads the marts."""

import json
import re
import shutil
import subprocess

import pytest

from assets.dbt_docs import DOCS_PAGE, STATIC_PAGE, docs_args, install_site
from assets.publishing import MART_KEYS, open_published
from tests.publishing.conftest import in_ci


def test_docs_are_generated_static_without_compiling_and_without_a_spark_catalog():
    vars_ = ["--vars", "{}"]
    assert docs_args("duckdb", vars_) == [
        "docs",
        "generate",
        "--static",
        "--no-compile",
        "--vars",
        "{}",
        "--target",
        "duckdb",
    ]
    assert docs_args("spark", vars_)[-3:] == ["--target", "spark", "--empty-catalog"]


def test_the_static_page_is_installed_as_index_html_beside_the_artifacts(tmp_path):
    built, docs = tmp_path / "target", tmp_path / "out" / "docs"
    built.mkdir()
    (built / STATIC_PAGE).write_text("<html>static</html>", encoding="utf-8")
    (built / "index.html").write_text("<html>needs a server</html>", encoding="utf-8")
    (built / "manifest.json").write_text("{}", encoding="utf-8")
    page = install_site(built, docs)
    assert page == docs / DOCS_PAGE and page.read_text(encoding="utf-8") == "<html>static</html>"
    assert sorted(p.name for p in docs.iterdir()) == ["index.html", "manifest.json"]  # no catalog built
    (built / STATIC_PAGE).unlink()
    with pytest.raises(Exception, match=STATIC_PAGE):
        install_site(built, docs)


@pytest.mark.slow
def test_a_run_writes_the_docs_site_that_the_report_links(e2e_run):
    _, report = e2e_run
    out = report.warehouse.parent
    assert "dbt_docs" in report.materialized
    page = (out / "docs" / "index.html").read_text(encoding="utf-8")
    # Offline: manifest and catalog inlined, no script or stylesheet fetched from elsewhere.
    assert "MANIFEST.JSON INLINE DATA" not in page and "CATALOG.JSON INLINE DATA" not in page
    assert not re.search(r'<script[^>]+src="https?://', page)
    assert not re.search(r'<link[^>]+rel="stylesheet"[^>]+href="https?://', page)
    manifest = json.loads((out / "docs" / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((out / "docs" / "catalog.json").read_text(encoding="utf-8"))
    for table in open_published(out).tables:
        schema, name = (
            ("audit", table.removeprefix("audit_")) if table.startswith("audit_") else ("marts", table)
        )
        nodes = [
            n
            for n in [*manifest["nodes"].values(), *manifest["sources"].values()]
            if n.get("schema") == schema and n.get("name") == name
        ]
        assert nodes and nodes[0]["description"], table
        assert nodes[0]["description"] in page or json.dumps(nodes[0]["description"])[1:-1] in page, table
        assert nodes[0]["unique_id"] in catalog["nodes"] or nodes[0]["unique_id"] in catalog["sources"], table
    report_page = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert 'href="../docs/index.html"' in report_page
    assert (out / "report" / "../docs/index.html").resolve().is_file()


@pytest.mark.slow
def test_the_exposures_name_the_report_the_finance_export_and_the_postgres_marts(e2e_run):
    _, report = e2e_run
    manifest = json.loads((report.warehouse.parent / "docs" / "manifest.json").read_text(encoding="utf-8"))
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == {"segment_report", "finance_export", "postgres_marts"}
    for exposure in exposures.values():
        assert exposure["owner"]["name"] and exposure["description"]
    models = {uid: n["name"] for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}

    def needs(name: str) -> set[str]:
        return {models[uid] for uid in exposures[name]["depends_on"]["nodes"]}

    assert needs("postgres_marts") == set(MART_KEYS)  # every published mart (MART_KEYS grows with them)
    assert {"customer_segments", "segment_kpis", "margin_reconciliation"} <= needs("segment_report")
    assert {"margin_reconciliation", "fct_customer_profit_monthly"} <= needs("finance_export")


@pytest.mark.slow
def test_the_docs_site_renders_offline_in_a_browser(e2e_run, tmp_path):
    """Headless Chromium opens the page from the file system, with no network, and renders a mart's
    columns with their descriptions (outside dbt's inlined JSON)."""
    browser = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    if browser is None:
        if in_ci():
            pytest.fail("CI=true and chromium is missing (.ci/run installs it)", pytrace=False)
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    _, report = e2e_run
    out = report.warehouse.parent
    manifest = json.loads((out / "docs" / "manifest.json").read_text(encoding="utf-8"))
    [kpis] = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == "segment_kpis"
    ]
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",  # no network
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            f"{(out / 'docs' / 'index.html').as_uri()}#!/model/{kpis['unique_id']}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    rendered = re.sub(r"<script.*?</script>", "", dom, flags=re.S)  # what the page drew, not its data
    assert "<h5>Description</h5>" in rendered
    for column in ("aov", "retention_rate", "cltv"):
        assert kpis["columns"][column]["description"].split(",")[0][:30] in rendered, column
