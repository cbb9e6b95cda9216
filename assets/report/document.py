"""The report's one HTML file: sections, plotly.js inlined once, the data embedded as JSON.

A section is a title, a caption and either a Plotly figure (drawn by the page's script; a click on a
customer's point opens its page), a still image, or HTML of its own. Anything that can make a
`Section` plugs into the report. Customer pages are client-side routes (`#customer/C00042`)
rendered by `app.js` from the embedded JSON, so the report stays one file: it can be mailed or
opened from a file share and makes no network request.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from importlib import resources

import plotly.graph_objects as go
import plotly.io as pio


@dataclass
class Section:
    id: str  # the HTML id, also the navigation anchor (#id)
    title: str
    caption: str
    figure: go.Figure | None = None  # drawn by the page's script
    image_uri: str | None = None  # a still chart (data: URI)
    body: str = ""  # trusted HTML (escape what you put in it), after the figure or image


def script_json(text: str) -> str:
    """JSON text safe inside <script type="application/json">: `<` only ever occurs inside JSON strings,
    where \\u003c means the same character, so no `</script>` can end the block early."""
    return text.replace("<", "\\u003c")


# plotly.js's basic partial bundle (scatter, bar, pie), vendored: vendor/README.md says why and how.
PLOTLY_JS = "vendor/plotly-basic.min.js"


def _asset(name: str) -> str:
    return resources.files("assets.report").joinpath(*name.split("/")).read_text(encoding="utf-8")


def render_section(section: Section) -> str:
    esc = html.escape
    parts = [f'<section id="{esc(section.id)}"><h2>{esc(section.title)}</h2>']
    if section.caption:
        parts.append(f'<p class="caption">{esc(section.caption)}</p>')
    if section.figure is not None:
        plot_id = f"plot-{section.id}"
        height = section.figure.layout.height or 450  # reserved before the script draws the figure
        parts.append(f'<div class="plot" id="{esc(plot_id)}" style="min-height:{int(height)}px"></div>')
        figure = script_json(pio.to_json(section.figure, validate=False))
        parts.append(f'<script type="application/json" data-figure="{esc(plot_id)}">{figure}</script>')
    if section.image_uri is not None:
        parts.append(
            f'<img class="chart" id="chart-{esc(section.id)}" alt="{esc(section.title)}" '
            f'src="{section.image_uri}">'
        )
    parts.append(section.body)
    parts.append("</section>")
    return "".join(parts)


def _json(value) -> str:
    return script_json(json.dumps(value, allow_nan=False, separators=(",", ":")))


def render_document(
    *, title: str, subtitle: str, sections: list[Section], data: dict, pages: dict, footer: str
) -> str:
    """The whole page. `data` (JSON-ready: meta, explain, table) and `pages` (customer → its page) are
    what `app.js` reads; the pages apart, parsed only when one is opened."""
    esc = html.escape
    nav = " ".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{_asset("report.css")}</style>
<script>{_asset(PLOTLY_JS)}</script>
</head>
<body>
<header>
<h1>strata — customer profitability and segments</h1>
<p>{subtitle}</p>
</header>
<main>
<div id="overview">
<nav>{nav}</nav>
{"".join(render_section(s) for s in sections)}
<footer>{footer}</footer>
</div>
<div id="customer-view" hidden></div>
</main>
<script type="application/json" id="report-data">{_json(data)}</script>
<script type="application/json" id="report-pages">{_json(pages)}</script>
<script>{_asset("app.js")}</script>
</body>
</html>
"""
