"""The dbt docs site (<out>/docs/index.html), its cache, and the dbt exposures of what reads the marts."""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource

import assets.dbt_docs
from assets.core import dbt_executable
from assets.core.dbt import dbt_project, require_manifest, vars_arg
from assets.core.folder_cache import ENTRY, entries
from assets.core.resources import StrataPaths
from assets.dbt_docs import DOCS_PAGE, dbt_docs, docs_args, install_site
from assets.docs_cache import (
    STATIC_PAGE,
    cache_key,
    docs_cache_dir,
    entry_problem,
    key_parts,
    prune,
    schema_digest,
    store_site,
)
from assets.publishing import MART_KEYS, open_published


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
def test_the_docs_site_renders_offline_in_a_browser(e2e_run, chromium, tmp_path):
    """Headless Chromium opens the page from the file system, with no network, and renders a mart's
    columns with their descriptions (outside dbt's inlined JSON)."""
    _, report = e2e_run
    out = report.warehouse.parent
    manifest = json.loads((out / "docs" / "manifest.json").read_text(encoding="utf-8"))
    [kpis] = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == "segment_kpis"
    ]
    dom = subprocess.run(
        [
            chromium,
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


# --------------------------------------------------------------------------------------------------
# The cache: key, entries, pruning (no dbt)


def test_the_schema_digest_follows_what_the_catalog_reads_and_not_the_rows(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t (a INTEGER)")
    digests = [schema_digest(warehouse)]

    def change(sql: str) -> None:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(sql)
        digests.append(schema_digest(warehouse))

    change("INSERT INTO marts.t VALUES (1), (2)")  # rows: the catalog has no row counts
    assert digests[-1] == digests[0]
    change("ALTER TABLE marts.t ADD COLUMN b VARCHAR")
    change("COMMENT ON COLUMN marts.t.b IS 'a comment'")
    change("COMMENT ON TABLE marts.t IS 'a table comment'")
    change("ALTER TABLE marts.t ALTER b TYPE INTEGER")
    change("CREATE VIEW marts.v AS SELECT a FROM marts.t")
    assert len(set(digests)) == len(digests) - 1  # every change but the rows is a new digest


def test_the_key_changes_with_the_manifest_the_target_and_the_vars(tmp_path):
    warehouse, manifest = tmp_path / "warehouse.duckdb", tmp_path / "manifest.json"
    duckdb.connect(str(warehouse)).close()
    manifest.write_text('{"nodes": {}}', encoding="utf-8")
    vars_ = ["--vars", "{}"]
    base = key_parts(manifest, "duckdb", vars_, warehouse)
    assert cache_key(key_parts(manifest, "duckdb", vars_, warehouse)) == cache_key(base)
    assert {"dbt-core", "dbt-duckdb", "duckdb"} <= {v.split("==")[0] for v in base["versions"].split()}
    assert cache_key(key_parts(manifest, "duckdb", ["--vars", '{"a":1}'], warehouse)) != cache_key(base)
    manifest.write_text('{"nodes": {"x": {}}}', encoding="utf-8")
    assert cache_key(key_parts(manifest, "duckdb", vars_, warehouse)) != cache_key(base)
    # Spark's catalog is empty (--empty-catalog): no warehouse is read, there may be none.
    spark = key_parts(manifest, "spark", vars_, tmp_path / "no such warehouse.duckdb")
    assert spark["schema"] == "empty catalog" and "dbt-spark" in spark["versions"]


def _built(folder: Path, page: str = "<html>site</html>") -> Path:
    folder.mkdir()
    (folder / STATIC_PAGE).write_text(page, encoding="utf-8")
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    (folder / "catalog.json").write_text('{"nodes": {}}', encoding="utf-8")
    return folder


def test_a_half_written_or_damaged_entry_is_never_used(tmp_path):
    cache, parts = tmp_path / "cache", {"manifest": "m", "schema": "s"}
    key = cache_key(parts)
    store_site(_built(tmp_path / "built"), cache, key, parts)
    assert entry_problem(cache / key) is None
    assert sorted(p.name for p in (cache / key).iterdir()) == sorted(
        [ENTRY, STATIC_PAGE, "manifest.json", "catalog.json"]
    )
    assert [p.name for p in cache.iterdir()] == [key]  # the temporary folder was renamed into place
    # A writer that died leaves only a temporary folder: never an entry under a key.
    half = cache / f".tmp-{key[:16]}-deadbeef"
    half.mkdir()
    (half / STATIC_PAGE).write_text("<html>sit", encoding="utf-8")
    assert entries(cache) == [cache / key]
    # A file changed or missing after it was stored: the entry is not used.
    (cache / key / STATIC_PAGE).write_text("<html>sit", encoding="utf-8")
    assert "static_index.html differs" in entry_problem(cache / key)
    (cache / key / STATIC_PAGE).write_text("<html>site</html>", encoding="utf-8")
    assert entry_problem(cache / key) is None
    (cache / key / "catalog.json").unlink()
    assert "catalog.json" in entry_problem(cache / key)
    (cache / key / ENTRY).unlink()
    assert "unreadable" in entry_problem(cache / key)


def test_pruning_keeps_the_newest_entries_and_deletes_dead_writers_folders(tmp_path):
    cache = tmp_path / "cache"
    keys = []
    for i in range(4):
        parts = {"manifest": str(i)}
        keys.append(cache_key(parts))
        store_site(_built(tmp_path / f"built{i}"), cache, keys[-1], parts)
        os.utime(cache / keys[-1], (1_000 + i, 1_000 + i))
    os.utime(cache / keys[0], None)  # used just now: the newest
    stale, fresh = cache / ".tmp-stale-1", cache / ".tmp-fresh-2"
    stale.mkdir(), fresh.mkdir()
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    prune(cache, keep=2)
    assert sorted(p.name for p in cache.iterdir()) == sorted([keys[0], keys[3], fresh.name])


# --------------------------------------------------------------------------------------------------
# The cache in real runs of the asset: real dbt, copies of the sample run's warehouse.

PROBE = "docs_cache_probe"  # a column added to a mart: a schema no other test builds


def _materialize_docs(out: Path) -> tuple[dict, str]:
    """Materialise `dbt_docs` alone into `out`: (its metadata, its log messages)."""
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [dbt_docs],
        resources={
            "paths": StrataPaths(landing_dir=str(out / "landing"), out_dir=str(out)),
            "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable.path()),
        },
        instance=instance,
    )
    assert result.success
    [mat] = [e.materialization for e in result.get_asset_materialization_events()]
    logs = "\n".join(e.user_message for e in instance.all_logs(result.run_id))
    return {k: v.value for k, v in mat.metadata.items()}, logs


def _forget(out: Path, manifest: Path) -> None:
    """Delete the cache entry a run into `out` with `manifest` would use: the cache outlives a test
    session, and the schema and manifest these tests make are made again by the next session."""
    paths = StrataPaths(landing_dir=str(out / "landing"), out_dir=str(out))
    parts = key_parts(manifest, paths.target, vars_arg(paths.settings()), paths.warehouse)
    shutil.rmtree(docs_cache_dir() / cache_key(parts), ignore_errors=True)


def _copy_run(e2e_run, out: Path) -> Path:
    _, report = e2e_run
    out.mkdir(parents=True)
    shutil.copyfile(report.warehouse, out / "warehouse.duckdb")
    return out


@pytest.fixture(scope="module")
def docs_runs(e2e_run, tmp_path_factory):
    """The docs asset materialised, in order: into two copies of the sample run (the second reuses);
    into a third after a column was added to a mart (a new schema), again after its cache entry was
    damaged, and once more (reused); into a fourth with a changed manifest."""
    root = tmp_path_factory.mktemp("docs_cache")
    a, b, c, d = (_copy_run(e2e_run, root / n) for n in ("a", "b", "c", "d"))
    runs = {"a": _materialize_docs(a), "b": _materialize_docs(b)}
    with duckdb.connect(str(c / "warehouse.duckdb")) as con:
        con.execute(f"ALTER TABLE marts.segment_kpis ADD COLUMN {PROBE} INTEGER")
    _forget(c, require_manifest())
    runs["schema"] = _materialize_docs(c)
    entry = docs_cache_dir() / runs["schema"][0]["cache_key"]
    page = (entry / STATIC_PAGE).read_bytes()
    (entry / STATIC_PAGE).write_bytes(page[: len(page) // 2])  # as if a copy had stopped half-way
    runs["damaged"] = _materialize_docs(c)
    runs["again"] = _materialize_docs(c)
    manifest = json.loads(require_manifest().read_text(encoding="utf-8"))
    [kpis] = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == "segment_kpis"
    ]
    kpis["description"] = "A description only this test writes."
    changed = root / "manifest.json"
    changed.write_text(json.dumps(manifest), encoding="utf-8")
    _forget(d, changed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(assets.dbt_docs, "require_manifest", lambda: changed)
        runs["manifest"] = _materialize_docs(d)
    return {**runs, "out_a": a, "out_b": b, "out_c": c, "out_d": d}


@pytest.mark.slow
def test_a_second_run_with_the_same_manifest_and_schema_reuses_the_site(docs_runs):
    metadata, logs = docs_runs["b"]
    assert metadata["site"] == "reused" and "regenerated_because" not in metadata
    assert "reused from the cache" in logs and "no dbt run" in logs
    assert metadata["cache_key"] == docs_runs["a"][0]["cache_key"]
    for name in (DOCS_PAGE, "manifest.json", "catalog.json"):  # byte for byte the first run's site
        first, second = (docs_runs[out] / "docs" / name for out in ("out_a", "out_b"))
        assert second.read_bytes() == first.read_bytes(), name


@pytest.mark.slow
def test_a_schema_change_regenerates_the_site(docs_runs):
    metadata, logs = docs_runs["schema"]
    assert metadata["site"] == "generated" and metadata["cache_key"] != docs_runs["a"][0]["cache_key"]
    assert "the warehouse schema" in metadata["regenerated_because"] and "generated (" in logs
    catalog = json.loads((docs_runs["out_c"] / "docs" / "catalog.json").read_text(encoding="utf-8"))
    [kpis] = [n for n in catalog["nodes"].values() if n["metadata"]["name"] == "segment_kpis"]
    assert PROBE in kpis["columns"]


@pytest.mark.slow
def test_a_damaged_cache_entry_is_made_again_and_then_reused(docs_runs):
    metadata, _ = docs_runs["damaged"]
    assert metadata["site"] == "generated"
    assert metadata["regenerated_because"] == "the cached static_index.html differs from what was stored"
    page = (docs_runs["out_c"] / "docs" / DOCS_PAGE).read_bytes()
    assert page.rstrip().endswith(b"</html>") and PROBE.encode() in page  # whole, not half
    again, _ = docs_runs["again"]
    assert again["site"] == "reused" and again["cache_key"] == metadata["cache_key"]
    assert (docs_runs["out_c"] / "docs" / DOCS_PAGE).read_bytes() == page


@pytest.mark.slow
def test_a_different_manifest_regenerates_the_site(docs_runs):
    metadata, _ = docs_runs["manifest"]
    assert metadata["site"] == "generated" and "the dbt manifest" in metadata["regenerated_because"]
    assert "A description only this test writes." in (docs_runs["out_d"] / "docs" / DOCS_PAGE).read_text(
        encoding="utf-8"
    )
