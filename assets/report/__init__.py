"""The segment report: one self-contained HTML file from the published copy.

`build_report(copy, settings, report_dir)` reads the current published copy once (`data.py`: every
number comes from the marts), draws the customer charts as Plotly figures (`interactive.py`) and
every chart as a still PNG (`charts.py`), builds the customer table and pages (`pages.py`) and
assembles one HTML file with plotly.js inlined once and the data embedded as JSON (`document.py`,
`app.js`): it opens offline, from a mail attachment or a file share. `<report_dir>/index.html` and the
PNGs beside it are each replaced atomically. The Dagster asset `segment_report` puts the still charts
in its materialisation metadata, so the Dagster UI shows them.
"""

from assets.report.asset import segment_report
from assets.report.build import Report, build_report
from assets.report.chart import Chart

__all__ = ["Chart", "Report", "build_report", "segment_report"]
