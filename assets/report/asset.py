"""The Dagster asset `segment_report`: the report, with its still charts in the metadata."""


import dagster as dg

from assets.core.resources import StrataPaths
from assets.core.retries import transient_retries
from assets.publishing import open_published
from assets.report import clv as clv_section
from assets.report.build import REPORT_DIR, build_report
from assets.report.reconciliation import reconciliation_markdown


@dg.asset(
    name="segment_report",
    group_name="publishing",
    deps=[dg.AssetKey("published_marts")],
    description="The segment report: <out>/report/index.html (one self-contained HTML file: interactive "
    "strata map, whale curve and revenue × margin quadrant, the customer table, a page per customer, KPI "
    "trends against targets, maturity transitions and the newest reconciliation), from the published copy.",
    owners=["team:data-engineering"],
    kinds={"html", "python"},
)
@transient_retries
def segment_report(context: dg.AssetExecutionContext, paths: StrataPaths) -> dg.MaterializeResult:
    settings = paths.settings()
    copy = open_published(paths.out)
    backtest = clv_section.read_backtest(paths.warehouse, paths.out, paths.target)
    report = build_report(copy, settings, paths.out / REPORT_DIR, backtest)
    context.log.info(
        f"wrote {report.path} ({report.size_bytes / 1e6:.1f} MB: {report.customers:,} customers, "
        f"{report.pages:,} customer pages) from {copy.version.name}"
    )
    metadata = {
        "report": dg.MetadataValue.path(str(report.path)),
        "segment_month": report.month,
        "customers": report.customers,
        "customer_pages": report.pages,
        "report_bytes": report.size_bytes,
        "published_copy": copy.version.name,
        "reconciliation": dg.MetadataValue.md(
            reconciliation_markdown(report.reconciliation, settings.currency.lcy)
        ),
    }
    for chart in report.charts:
        metadata[f"chart/{chart.name}"] = dg.MetadataValue.md(f"![{chart.title}]({chart.compact_data_uri()})")
    return dg.MaterializeResult(metadata=metadata)
