"""The segment report (one self-contained HTML file from the published copy): `build.py` says how
it is made; this package exports its asset and entry points."""

from assets.report.asset import segment_report
from assets.report.build import Report, build_report
from assets.report.chart import Chart

__all__ = ["Chart", "Report", "build_report", "segment_report"]
