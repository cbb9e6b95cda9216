/* The segment report's script: draws the embedded Plotly figures, the customer table, and a customer's
   page when the address ends in #customer/<customer_no>. It only reads the JSON embedded in the page:
   no request leaves the file. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var META = DATA.meta, EXPLAIN = DATA.explain, TABLE = DATA.table;
  var PAGES = null;  // parsed when the first customer page is opened (the largest part of the data)
  function pages() {
    if (PAGES === null) PAGES = JSON.parse(document.getElementById("report-pages").textContent);
    return PAGES;
  }
  var HAS_PAGE = new Set(TABLE.pages);
  var PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  var PAGE_SIZE = 50;
  var LABELS = {
    gross_sales: "gross sales", credits: "credits", net_revenue: "net revenue", cogs: "COGS",
    rebate_income: "rebate income", services_cost: "services cost", gross_margin: "gross margin",
    cost_to_serve: "cost to serve", contribution_margin: "contribution margin"
  };
  // How each waterfall measure moves the running total (methodology §3).
  var WATERFALL_SIGN = {
    gross_sales: "absolute", credits: -1, net_revenue: "total", cogs: -1, rebate_income: 1,
    services_cost: -1, gross_margin: "total", cost_to_serve: -1, contribution_margin: "total"
  };

  // ---------------------------------------------------------------------------------------------
  // formatting
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function money(v, decimals) {
    if (v === null || v === undefined) return "–";
    var d = decimals === undefined ? 2 : decimals;
    var text = Math.abs(v).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
    return (v < 0 ? "−" : "") + text;
  }
  function pct(v, d) {
    if (v === null || v === undefined) return "–";
    var text = (v * 100).toFixed(d === undefined ? 1 : d);
    return (text.charAt(0) === "-" ? "−" + text.slice(1) : text) + " %";
  }
  function fixed(v, d) {
    return v === null || v === undefined ? "–" : Number(v).toFixed(d);
  }
  // a code as a chip, coloured by its value's class; `label` (optional) is written before it, uncoloured
  function code(v, extra, label) {
    if (v === null || v === undefined) return label ? "" : '<span class="muted">–</span>';
    var cls = label ? "" : esc(v);
    return '<span class="code ' + cls + (extra ? " " + extra : "") + '">' + (label ? esc(label) + " " : "") + esc(v) + "</span>";
  }
  function words(name) { return String(name).replace(/_/g, " "); }
  function customerLink(no, text) {
    return HAS_PAGE.has(no) ? '<a href="#customer/' + encodeURIComponent(no) + '">' + esc(text) + "</a>"
      : '<span title="no page: outside the most and least profitable customers of its stratum that get one">'
        + esc(text) + "</span>";
  }
  function notice(text) {
    var box = document.createElement("div");
    box.className = "notice";
    box.textContent = text;
    document.body.appendChild(box);
    setTimeout(function () { box.remove(); }, 3500);
  }
  function openCustomer(no) {
    if (HAS_PAGE.has(no)) location.hash = "#customer/" + encodeURIComponent(no);
    else notice(no + " has no page in this report; the customer table lists it.");
  }

  // ---------------------------------------------------------------------------------------------
  // the overview's figures, each drawn when it comes near the screen (a chart of 10,000 customers takes
  // a while to draw: the first screen should not wait for the ones below it); clicking a customer's
  // point opens its page
  function drawFigure(script) {
    var target = document.getElementById(script.getAttribute("data-figure"));
    var figure = JSON.parse(script.textContent);
    return Plotly.newPlot(target, figure.data, figure.layout || {}, PLOT_CONFIG).then(function () {
      target.setAttribute("data-drawn", "1");
      target.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata && typeof point.customdata[0] === "string") openCustomer(point.customdata[0]);
      });
    });
  }

  var overviewDrawn = null;  // resolves once the figures on the first screen are drawn
  function drawOverview() {
    if (overviewDrawn) return overviewDrawn;
    var scripts = Array.prototype.slice.call(document.querySelectorAll("script[data-figure]"));
    if (!scripts.length || !("IntersectionObserver" in window)) {
      overviewDrawn = Promise.all(scripts.map(drawFigure));
      return overviewDrawn;
    }
    overviewDrawn = new Promise(function (resolve) {
      var first = true;
      var observer = new IntersectionObserver(function (entries) {
        var drawing = [];
        entries.forEach(function (entry) {
          if (!entry.isIntersecting) return;
          observer.unobserve(entry.target);
          drawing.push(drawFigure(entry.target.nextElementSibling));
        });
        if (first) { first = false; Promise.all(drawing).then(resolve); }
      }, { rootMargin: "0px" });
      scripts.forEach(function (script) { observer.observe(script.previousElementSibling); });
    });
    return overviewDrawn;
  }

  // ---------------------------------------------------------------------------------------------
  // the customer table: search, filters, sorting, pages of PAGE_SIZE rows
  var state = { query: "", stratum: "", segment: "", sort: null, dir: 1, page: 0 };
  var COLUMN = {};
  TABLE.columns.forEach(function (c, i) { COLUMN[c.key] = i; });

  function cell(column, value, row) {
    if (column.key === "customer_no" || column.key === "customer_name")
      return "<td>" + customerLink(row[COLUMN.customer_no], value === null ? "" : value) + "</td>";
    if (column.kind === "money") return '<td class="num' + (value < 0 ? " neg" : "") + '">' + money(value, 0) + "</td>";
    if (column.kind === "pct") return '<td class="num' + (value < 0 ? " neg" : "") + '">' + pct(value) + "</td>";
    if (column.kind === "code") return "<td>" + code(value) + "</td>";
    return "<td>" + esc(value === null ? "" : value) + "</td>";
  }

  function visibleRows() {
    var q = state.query.trim().toLowerCase();
    var rows = TABLE.rows.filter(function (row) {
      if (state.stratum && row[COLUMN.stratum] !== state.stratum) return false;
      if (state.segment && (row[COLUMN.maturity_segment] || "(none)") !== state.segment) return false;
      if (!q) return true;
      return String(row[COLUMN.customer_no]).toLowerCase().indexOf(q) >= 0
        || String(row[COLUMN.customer_name] || "").toLowerCase().indexOf(q) >= 0;
    });
    if (state.sort !== null) {
      var i = state.sort, dir = state.dir;
      rows.sort(function (a, b) {
        var x = a[i], y = b[i];
        if (x === y) return 0;
        if (x === null) return 1;  // empty values last, whichever the direction
        if (y === null) return -1;
        return (x < y ? -1 : 1) * dir;
      });
    }
    return rows;
  }

  function drawTable() {
    var rows = visibleRows();
    var pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    var shown = rows.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
    document.querySelector("#customer-table tbody").innerHTML = shown.map(function (row) {
      return '<tr data-customer="' + esc(row[COLUMN.customer_no]) + '">'
        + TABLE.columns.map(function (c, i) { return cell(c, row[i], row); }).join("") + "</tr>";
    }).join("");
    document.querySelectorAll("#customer-table th").forEach(function (th, i) {
      if (state.sort === i) th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    var first = rows.length ? state.page * PAGE_SIZE + 1 : 0;
    document.getElementById("table-count").textContent = first + "–" + (state.page * PAGE_SIZE + shown.length)
      + " of " + rows.length.toLocaleString("en-US") + " customers";
    document.getElementById("table-prev").disabled = state.page === 0;
    document.getElementById("table-next").disabled = state.page >= pages - 1;
  }

  function options(select, values) {
    select.innerHTML = '<option value="">all</option>' + values.map(function (v) {
      return '<option value="' + esc(v) + '">' + esc(v) + "</option>";
    }).join("");
  }

  function setUpTable() {
    var head = document.querySelector("#customer-table thead tr");
    head.innerHTML = TABLE.columns.map(function (c) {
      return '<th class="' + (c.kind === "money" || c.kind === "pct" ? "num" : "") + '" title="sort">' + esc(c.label) + "</th>";
    }).join("");
    head.querySelectorAll("th").forEach(function (th, i) {
      th.addEventListener("click", function () {
        // first click: money and rates largest first, text A to Z
        if (state.sort === i) state.dir = -state.dir;
        else { state.sort = i; state.dir = TABLE.columns[i].kind === "money" || TABLE.columns[i].kind === "pct" ? -1 : 1; }
        state.page = 0;
        drawTable();
      });
    });
    var present = new Set(TABLE.rows.map(function (r) { return r[COLUMN.stratum]; }));
    options(document.getElementById("filter-stratum"),
      EXPLAIN.strata.filter(function (s) { return present.has(s); })
        .concat(Array.from(present).filter(function (s) { return s && EXPLAIN.strata.indexOf(s) < 0; }).sort()));
    var segments = EXPLAIN.segments.slice();
    if (TABLE.rows.some(function (r) { return !r[COLUMN.maturity_segment]; })) segments.push("(none)");
    options(document.getElementById("filter-segment"), segments);
    document.getElementById("table-search").addEventListener("input", function (e) {
      state.query = e.target.value; state.page = 0; drawTable();
    });
    document.getElementById("filter-stratum").addEventListener("change", function (e) {
      state.stratum = e.target.value; state.page = 0; drawTable();
    });
    document.getElementById("filter-segment").addEventListener("change", function (e) {
      state.segment = e.target.value; state.page = 0; drawTable();
    });
    document.getElementById("table-prev").addEventListener("click", function () { state.page -= 1; drawTable(); });
    document.getElementById("table-next").addEventListener("click", function () { state.page += 1; drawTable(); });
    drawTable();
  }

  // ---------------------------------------------------------------------------------------------
  // a customer's page
  function card(label, value, negative) {
    return '<div class="card"><div class="label">' + esc(label) + '</div><div class="value' + (negative ? " neg" : "")
      + '">' + value + "</div></div>";
  }

  function factorTable(axis, factors) {
    return '<table class="factors" data-axis="' + axis + '"><thead><tr><th>factor</th><th class="num">T12M value</th>'
      + '<th class="num">percentile rank</th><th class="num">weight</th></tr></thead><tbody>'
      + factors.map(function (f) {
        var value = f.factor.indexOf("contribution_margin_pct") === 0 ? pct(f.value)
          : (f.factor === "contribution_margin" || f.factor === "net_revenue") ? money(f.value) : fixed(f.value, 0);
        return '<tr><td>' + esc(words(f.factor)) + '</td><td class="num">' + value + "</td>"
          + '<td class="num percentile" data-factor="' + esc(f.factor) + '" data-value="' + (f.percentile === null ? "" : f.percentile)
          + '">' + fixed(f.percentile, 4) + '</td><td class="num">' + fixed(f.weight, 2) + "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  function whyHtml(page) {
    var c = page.customer;
    var toplineHigh = c.topline_score !== null && c.topline_score >= EXPLAIN.topline.cut;
    var profitHigh = c.profitability_score !== null && c.profitability_score >= EXPLAIN.profitability.cut
      && c.contribution_margin_t12m > 0;
    return '<div class="two"><div><h3>Top-line (buying power)</h3>' + factorTable("topline", page.why.topline)
      + '<p class="verdict">top-line score <b data-score="topline" data-value="' + c.topline_score + '">'
      + fixed(c.topline_score, 4) + "</b> " + (toplineHigh ? "≥" : "<") + " cut " + fixed(EXPLAIN.topline.cut, 2)
      + ": <b>" + (toplineHigh ? "high" : "low") + "</b></p></div>"
      + "<div><h3>Profitability</h3>" + factorTable("profitability", page.why.profitability)
      + '<p class="verdict">profitability score <b data-score="profitability" data-value="' + c.profitability_score + '">'
      + fixed(c.profitability_score, 4) + "</b> " + (c.profitability_score >= EXPLAIN.profitability.cut ? "≥" : "<")
      + " cut " + fixed(EXPLAIN.profitability.cut, 2) + (c.contribution_margin_t12m > 0 ? "" : " (and T12M contribution margin ≤ 0)")
      + ": <b>" + (profitHigh ? "high" : "low") + "</b></p></div></div>"
      + '<p class="verdict">' + (toplineHigh ? "high" : "low") + " top-line and " + (profitHigh ? "high" : "low")
      + " profitability: " + code(c.stratum) + "</p>";
  }

  function maturityHtml(page) {
    var c = page.customer;
    var tiers = Object.keys(EXPLAIN.tiers).map(function (t) { return esc(t) + " from " + EXPLAIN.tiers[t]; }).join(", ");
    var rows = page.maturity.map(function (d) {
      return "<tr><td>" + esc(words(d.dimension)) + '</td><td class="num">' + fixed(d.value, 1) + '</td><td class="num">'
        + fixed(d.weight, 2) + "</td></tr>";
    }).join("");
    var appetite = page.appetite.map(function (f) {
      var value = f.kind === "percentile" ? (f.value === null ? "–" : fixed(100 * f.value, 1) + " (percentile rank"
        + (f.count === null ? "" : " of " + f.count + " in T12M") + ")") : fixed(f.value, 1);
      return "<tr><td>" + esc(words(f.factor)) + '</td><td class="num">' + value + '</td><td class="num">'
        + fixed(f.weight, 2) + "</td></tr>";
    }).join("");
    return '<div class="two"><div><h3>Maturity dimensions (0–100)</h3><table><thead><tr><th>dimension</th>'
      + '<th class="num">value</th><th class="num">weight</th></tr></thead><tbody>' + rows + "</tbody></table>"
      + '<p class="verdict">maturity score <b>' + fixed(c.maturity_score, 1) + "</b>: " + code(c.maturity_tier)
      + ' <span class="muted">(tiers: ' + tiers + ")</span></p></div>"
      + '<div><h3>Appetite (0–100)</h3><table><thead><tr><th>factor</th><th class="num">value</th>'
      + '<th class="num">weight</th></tr></thead><tbody>' + appetite + "</tbody></table>"
      + '<p class="verdict">appetite score <b>' + fixed(c.appetite_score, 1) + "</b>; maturity "
      + (c.maturity_score >= EXPLAIN.maturity_cut ? "≥ " : "< ") + EXPLAIN.maturity_cut + ", appetite "
      + (c.appetite_score >= EXPLAIN.appetite_cut ? "≥ " : "< ") + EXPLAIN.appetite_cut + ": "
      + code(c.maturity_segment) + "</p></div></div>";
  }

  function playbookHtml(page) {
    var p = page.playbook;
    if (!Object.keys(p).length) return '<p class="muted">No playbook row for this customer.</p>';
    return '<dl class="playbook"><dt>relationship owner</dt><dd>' + esc(p.relationship_owner || "–") + "</dd>"
      + "<dt>review cadence</dt><dd>" + esc(p.review_cadence || "–") + "</dd>"
      + "<dt>key initiative</dt><dd>" + esc(p.key_initiative || "–") + "</dd>"
      + "<dt>last review</dt><dd>" + esc(p.last_review_date || "none on record") + "</dd>"
      + "<dt>next review due</dt><dd>" + esc(p.next_review_due || "–") + "</dd>"
      + '<dt>overdue</dt><dd id="review-overdue">' + (p.review_overdue ? code("OVERDUE", "overdue") : "no") + "</dd></dl>";
  }

  function predictedHtml(page) {
    var p = page.predicted;
    var keys = Object.keys(p);
    if (!keys.length) return "";
    var cards = "";
    if ("p_alive" in p) cards += card("p alive", pct(p.p_alive));
    if ("churn_risk" in p) cards += card("churn risk", code(p.churn_risk));
    if ("expected_orders_12m" in p) cards += card("expected orders, 12 months", fixed(p.expected_orders_12m, 1));
    if ("expected_order_value" in p) cards += card("expected order value (" + META.lcy + ")", money(p.expected_order_value));
    if ("predicted_net_revenue_12m" in p) cards += card("predicted net revenue, 12 months (" + META.lcy + ")", money(p.predicted_net_revenue_12m));
    if ("predicted_contribution_margin_12m" in p) cards += card("predicted contribution margin, 12 months (" + META.lcy + ")",
      money(p.predicted_contribution_margin_12m), p.predicted_contribution_margin_12m < 0);
    return '<section id="customer-predicted"><h2>Predicted value</h2><p class="caption">BG/NBD and Gamma-Gamma '
      + "(customer_segments): how likely the customer still buys, and what it should bring in the next 12 months.</p>"
      + '<div class="cards">' + cards + "</div></section>";
  }

  function drawWaterfall(page) {
    var w = page.waterfall;
    var target = document.getElementById("customer-waterfall");
    if (!w) { target.innerHTML = '<p class="muted">No profit rows in the window.</p>'; return Promise.resolve(); }
    // A waterfall of bars: a total (gross sales, net revenue, gross margin, contribution margin) is the
    // mart's own sum from 0; a step starts where the running total stands and moves it by the measure.
    var x = [], y = [], base = [], colour = [], running = 0;
    EXPLAIN.waterfall.forEach(function (m) {
      var sign = WATERFALL_SIGN[m];
      x.push(LABELS[m] || words(m));
      if (typeof sign === "number") {
        y.push(sign * w[m]); base.push(running); running += sign * w[m];
        colour.push(sign * w[m] < 0 ? "#d95f02" : "#1b9e77");
      } else {
        y.push(w[m]); base.push(0); running = w[m];
        colour.push("#1f77b4");
      }
    });
    var trace = {
      type: "bar", x: x, y: y, base: base, marker: { color: colour },
      customdata: EXPLAIN.waterfall.map(function (m) { return w[m]; }),
      text: y.map(function (v) { return money(v, 0); }), textposition: "outside", cliponaxis: false,
      hovertemplate: "%{x}: " + META.lcy + " %{text}<extra></extra>"
    };
    return Plotly.newPlot(target, [trace], {
      template: "plotly_white", height: 400, margin: { l: 70, r: 20, t: 30, b: 60 }, showlegend: false,
      yaxis: { title: { text: META.lcy }, tickformat: ",.0f" }, font: { size: 12 }
    }, PLOT_CONFIG);
  }

  function drawMonthly(page) {
    var m = page.monthly;
    var target = document.getElementById("customer-monthly");
    if (!m) { target.innerHTML = ""; return Promise.resolve(); }
    return Plotly.newPlot(target, [
      { type: "bar", name: "net revenue", x: m.month, y: m.net_revenue, marker: { color: "#9ecae1" } },
      { type: "bar", name: "contribution margin", x: m.month, y: m.contribution_margin, marker: { color: "#1f77b4" } }
    ], {
      template: "plotly_white", height: 300, barmode: "group", margin: { l: 70, r: 20, t: 10, b: 40 },
      yaxis: { title: { text: META.lcy }, tickformat: ",.0f" }, legend: { orientation: "h", y: 1.1 }, font: { size: 12 }
    }, PLOT_CONFIG);
  }

  function drawCostToServe(page) {
    var rows = page.cost_to_serve;
    var target = document.getElementById("customer-cts");
    if (!rows.length) { target.innerHTML = '<p class="muted">No cost to serve in the window.</p>'; return Promise.resolve(); }
    var names = rows.map(function (r) { return words(r.activity).toLowerCase(); });
    var segment = page.customer.maturity_segment || "(none)";
    return Plotly.newPlot(target, [
      { type: "bar", orientation: "h", name: "this customer", y: names, x: rows.map(function (r) { return r.cost; }),
        marker: { color: "#d95f02" }, hovertemplate: "%{y}: " + META.lcy + " %{x:,.2f}<extra>this customer</extra>" },
      { type: "bar", orientation: "h", name: "median of " + segment, y: names,
        x: rows.map(function (r) { return r.segment_median; }), marker: { color: "#bdbdbd" },
        hovertemplate: "%{y}: " + META.lcy + " %{x:,.2f}<extra>median of " + esc(segment) + "</extra>" }
    ], {
      template: "plotly_white", height: 60 + 40 * rows.length, barmode: "group", margin: { l: 160, r: 20, t: 10, b: 40 },
      xaxis: { title: { text: META.lcy + ", T12M" }, tickformat: ",.0f" }, yaxis: { autorange: "reversed" },
      legend: { orientation: "h", y: 1.12 }, font: { size: 12 }
    }, PLOT_CONFIG);
  }

  function showCustomer(no) {
    var view = document.getElementById("customer-view");
    var page = pages()[no];
    document.getElementById("overview").hidden = true;
    view.hidden = false;
    window.scrollTo(0, 0);
    if (!page) {
      view.innerHTML = '<p class="crumbs"><a href="#">← all customers</a></p><section><h2>' + esc(no)
        + "</h2><p>This customer has no page in this report: pages are written for the most and least "
        + "profitable customers of each stratum (setting report.customer_pages_per_stratum). The customer "
        + "table lists every active customer.</p></section>";
      document.body.setAttribute("data-customer", no);
      return Promise.resolve();
    }
    var c = page.customer;
    var from = META.waterfall_from, to = META.month;
    view.innerHTML = '<p class="crumbs"><a href="#">← all customers</a></p>'
      + '<section class="customer-head"><h2 id="customer-title">' + esc(c.customer_name || no) + ' <span class="muted">'
      + esc(no) + "</span></h2>"
      + '<div class="codes">' + code(c.stratum) + code(c.maturity_segment) + code(c.maturity_tier)
      + code(c.profitability_quadrant) + code(c.revenue_tier, null, "revenue tier")
      + code(c.needs_group, null, "needs") + code(c.customer_group, null, "group") + "</div>"
      + '<div class="cards">' + card("T12M net revenue (" + META.lcy + ")", money(c.net_revenue_t12m))
      + card("T12M gross margin (" + META.lcy + ")", money(c.gross_margin_t12m), c.gross_margin_t12m < 0)
      + card("T12M cost to serve (" + META.lcy + ")", money(c.cost_to_serve_t12m))
      + card("T12M contribution margin (" + META.lcy + ")", money(c.contribution_margin_t12m), c.contribution_margin_t12m < 0)
      + ("contribution_margin_pct_t12m" in c ? card("CM % of net revenue", pct(c.contribution_margin_pct_t12m), c.contribution_margin_pct_t12m < 0) : "")
      + card("T12M orders", fixed(c.orders_t12m, 0)) + card("T12M product families", fixed(c.product_families_t12m, 0))
      + "</div><p class=\"caption\">Segment month " + esc(to) + " (customer_segments, account_playbook).</p></section>"
      + '<section id="customer-why"><h2>Why ' + esc(c.stratum) + '</h2><p class="caption">NAW strata (methodology §7): '
      + "each factor's percentile rank among the active customers, weighted into the two scores, against the configured cuts.</p>"
      + whyHtml(page) + "</section>"
      + '<section><h2>Profit waterfall, ' + META.waterfall_months + " months (" + esc(from) + " to " + esc(to) + ")"
      + '</h2><p class="caption">fct_customer_profit_monthly summed over the ' + META.waterfall_months
      + " months ending with the segment month: from gross sales to contribution margin (" + esc(META.lcy) + ").</p>"
      + '<div id="customer-waterfall"></div><h3>Month by month</h3><div id="customer-monthly"></div></section>'
      + '<section><h2>Cost to serve by activity against the median of its segment</h2><p class="caption">'
      + "fct_cost_to_serve_monthly summed over the " + EXPLAIN.window_months + " months from " + esc(META.cts_window_from)
      + " to " + esc(to) + "; the median is over the active customers of the maturity segment " + code(c.maturity_segment)
      + " (a customer without cost in an activity counts as 0).</p><div id=\"customer-cts\"></div></section>"
      + '<section><h2>Maturity and appetite</h2><p class="caption">Methodology §9; weights, tiers and cuts from the configuration.</p>'
      + maturityHtml(page) + "</section>"
      + '<section id="customer-playbook"><h2>Playbook: ' + esc(c.maturity_segment || "–") + "</h2>" + playbookHtml(page) + "</section>"
      + predictedHtml(page);
    document.title = "strata — " + (c.customer_name || no);
    return Promise.all([drawWaterfall(page), drawMonthly(page), drawCostToServe(page)]).then(function () {
      document.body.setAttribute("data-customer", no);
    });
  }

  function showOverview(anchor) {
    document.getElementById("customer-view").hidden = true;
    document.getElementById("overview").hidden = false;
    document.body.removeAttribute("data-customer");
    document.title = META.title;
    return drawOverview().then(function () {
      var target = anchor && document.getElementById(anchor);
      if (target) target.scrollIntoView();
    });
  }

  function route() {
    var hash = decodeURIComponent(location.hash.replace(/^#/, ""));
    return hash.indexOf("customer/") === 0 ? showCustomer(hash.slice("customer/".length)) : showOverview(hash);
  }

  setUpTable();
  window.addEventListener("hashchange", route);
  // data-ready: the first view is drawn (what the tests and the load-time measurement wait for)
  route().then(function () { document.body.setAttribute("data-ready", "1"); });
})();
