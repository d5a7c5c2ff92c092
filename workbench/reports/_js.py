"""The browser side of the compare views: CustomJS bodies, so that every control works in a
standalone page with no Python behind it (lab panel, notebook output, shared report).

Each body runs with the ``args`` that ``workbench.reports.views`` passes; those names are
the contract between the two files. Whatever these write into a page comes from numbers or
goes through Bokeh's own escaping (text nodes, canvas text): never build HTML from run names.
"""

# Curves: metric picker, x by step or time, EMA smoothing, log-scale y, grouping with mean and spread.
# args: metric_select, x_radio, smooth_slider, log_toggle, group_select, fig, renderers {metric: [GlyphRenderer]},
#   best_renderers {metric: GlyphRenderer}, titles {metric: str}, lin_scale, log_scale, yaxis, xaxis,
#   lin_ticker, log_ticker, lin_formatter, log_formatter, band_source, band_lines, band_areas, palette,
#   group_legend, run_legend (or null), groups {column: {labels, codes}}, n_runs, base_alpha
CURVES = """
const metric = metric_select.value;
const xfield = x_radio.active === 1 ? "time" : "step";
const w = Math.min(Math.max(smooth_slider.value, 0), 0.999);
const yfield = w > 0 ? "smooth" : "value";
const group = groups[group_select.value] ?? null;

function smooth(data) {
  // Exponential moving average, debiased (as TensorBoard), restarted at each run's curve.
  const v = data.value, run = data.run, out = new Float64Array(v.length);
  let last = 0, num = 0, prev = -2;
  for (let i = 0; i < v.length; i++) {
    if (run[i] !== prev) { last = 0; num = 0; prev = run[i]; }
    const y = v[i];
    if (run[i] < 0 || !Number.isFinite(y)) { out[i] = NaN; continue; }
    last = last * w + (1 - w) * y;
    num += 1;
    out[i] = last / (1 - Math.pow(w, num));
  }
  return out;
}

function set_fields(r) {
  for (const g of [r.glyph, r.muted_glyph, r.nonselection_glyph, r.selection_glyph, r.hover_glyph]) {
    if (g != null && typeof g === "object" && "x" in g) {
      g.x = {field: xfield};
      g.y = {field: yfield};
    }
  }
}

for (const [m, rs] of Object.entries(renderers)) {
  const on = m === metric;
  const all = best_renderers[m] != null ? [...rs, best_renderers[m]] : rs;
  for (const r of all) {
    r.visible = on && !(group != null && r === best_renderers[m]);
    if (!on) continue;  // hidden metrics are brought up to date when picked
    if (w > 0) {
      r.data_source.data = {...r.data_source.data, smooth: smooth(r.data_source.data)};
    }
    set_fields(r);
    if (r !== best_renderers[m]) {
      r.glyph.line_alpha = group != null ? Math.min(base_alpha, 0.12) : base_alpha;
    }
  }
}

fig.title.text = titles[metric] ?? metric;
xaxis.axis_label = xfield === "time" ? "seconds since the run started" : "step";
yaxis.axis_label = metric + (w > 0 ? " (smoothed)" : "");
const want_log = log_toggle.active;
if (want_log !== (fig.y_scale === log_scale)) {
  fig.y_scale = want_log ? log_scale : lin_scale;
  yaxis.ticker = want_log ? log_ticker : lin_ticker;
  yaxis.formatter = want_log ? log_formatter : lin_formatter;
}
if (run_legend != null) {
  run_legend.visible = group == null;
}
group_legend.visible = group != null;

// Groups: per bin of x, each run's mean in the bin; per group, the mean and standard deviation of those.
band_lines.visible = false;
band_areas.visible = false;
if (group != null) {
  const rs = renderers[metric] ?? [];
  let xmin = Infinity, xmax = -Infinity, ypos = Infinity;
  for (const r of rs) {
    const d = r.data_source.data, X = d[xfield], Y = d[yfield], run = d.run;
    for (let i = 0; i < X.length; i++) {
      if (run[i] >= 0 && Number.isFinite(X[i]) && Number.isFinite(Y[i])) {
        if (X[i] < xmin) xmin = X[i];
        if (X[i] > xmax) xmax = X[i];
        if (Y[i] > 0 && Y[i] < ypos) ypos = Y[i];
      }
    }
  }
  const out = {xs: [], ys: [], pxs: [], pys: [], color: [], label: []};
  if (xmin <= xmax) {
    const nb = xmax > xmin ? 60 : 1;
    const width = xmax > xmin ? (xmax - xmin) / nb : 1;
    const sum = new Float64Array(n_runs * nb), cnt = new Float64Array(n_runs * nb);
    for (const r of rs) {
      const d = r.data_source.data, X = d[xfield], Y = d[yfield], run = d.run;
      for (let i = 0; i < X.length; i++) {
        if (run[i] < 0 || !Number.isFinite(X[i]) || !Number.isFinite(Y[i])) continue;
        const b = Math.min(nb - 1, Math.floor((X[i] - xmin) / width));
        sum[run[i] * nb + b] += Y[i];
        cnt[run[i] * nb + b] += 1;
      }
    }
    const codes = group.codes;
    group.labels.forEach((label, k) => {
      const x = [], mean = [], bx = [], lower = [], upper = [];
      for (let b = 0; b < nb; b++) {
        let s = 0, s2 = 0, n = 0;
        for (let run = 0; run < n_runs; run++) {
          if (codes[run] !== k || cnt[run * nb + b] === 0) continue;
          const y = sum[run * nb + b] / cnt[run * nb + b];
          s += y; s2 += y * y; n += 1;
        }
        const xb = xmin + (b + 0.5) * width;
        x.push(xb);
        if (n === 0) { mean.push(NaN); continue; }
        const mu = s / n, sd = Math.sqrt(Math.max(s2 / n - mu * mu, 0));
        mean.push(mu);
        bx.push(xb);
        // On a log scale a band reaching zero or below is cut at the lowest value drawn.
        lower.push(want_log ? Math.max(mu - sd, Math.min(ypos, mu)) : mu - sd);
        upper.push(mu + sd);
      }
      out.xs.push(x);
      out.ys.push(mean);
      out.pxs.push([...bx, ...bx.slice().reverse()]);
      out.pys.push([...upper, ...lower.slice().reverse()]);
      out.color.push(palette[k % palette.length]);
      out.label.push(String(label));
    });
  }
  band_source.data = out;
  band_lines.visible = true;
  band_areas.visible = true;
}
"""

# Parallel coordinates: drag a box over part of an axis to keep only the runs inside the range;
# brushes on several axes combine; a flat box over an axis clears it; Reset clears all.
# args: runs, brush_source, status, n_axes, n_runs
PARALLEL = """
const b = brush_source.data;
const brushes = new Map();
for (let i = 0; i < b.axis.length; i++) brushes.set(b.axis[i], [b.bottom[i], b.top[i]]);
if (cb_obj.event_name === "button_click") {
  brushes.clear();
} else {
  const g = cb_obj.geometry;
  if (!cb_obj.final || g == null || g.type !== "rect") return;
  const x0 = Math.min(g.x0, g.x1), x1 = Math.max(g.x0, g.x1);
  const lo = Math.min(g.y0, g.y1), hi = Math.max(g.y0, g.y1);
  for (let a = Math.max(0, Math.ceil(x0)); a <= Math.min(n_axes - 1, Math.floor(x1)); a++) {
    if (hi - lo < 0.01) brushes.delete(a); else brushes.set(a, [Math.max(lo, 0), Math.min(hi, 1)]);
  }
}
const axis = [...brushes.keys()].sort((p, q) => p - q);
brush_source.data = {
  axis, left: axis.map((a) => a - 0.06), right: axis.map((a) => a + 0.06),
  bottom: axis.map((a) => brushes.get(a)[0]), top: axis.map((a) => brushes.get(a)[1]),
};
const ys = runs.data._pys;
const inside = [];
for (let r = 0; r < n_runs; r++) {
  let ok = true;
  for (const a of axis) {
    const y = ys[r][a], [lo, hi] = brushes.get(a);
    if (!(y >= lo && y <= hi)) { ok = false; break; }
  }
  if (ok) inside.push(r);
}
runs.selected.indices = axis.length > 0 ? inside : [];
status.text = axis.length === 0
  ? "Drag over part of an axis to keep the runs in that range; a flat drag on an axis clears it."
  : `${inside.length} of ${n_runs} runs inside the brushed ranges` + (inside.length === 0 ? " (none: all shown)" : "");
"""

# Scatter: any two columns, coloured by a third. Axes of text columns label their ticks through a
# formatter (label overrides cannot be cleared in BokehJS 3.9); the colour bar is rebuilt by giving it
# a new mapper (it reads its ticker and formatter only then).
# args: runs, points (GlyphRenderer), x_select, y_select, c_select, xaxis, yaxis, x_fixed, y_fixed, x_basic,
#   y_basic, x_text, y_text, basic_format (the numeric formatter), colorbar, c_fixed, c_basic, c_text,
#   factors {column: [labels]}, best_source, best {column: run index}, continuous, categorical (palettes),
#   run_colors (palette, or null beyond 20 runs)
SCATTER = """
function column(name) {
  return runs.data["num:" + name] ?? runs.data[name];
}
const data = {...runs.data};
data._sx = column(x_select.value);
data._sy = column(y_select.value);
data._sc = column(c_select.value);
runs.data = data;
for (const [axis, sel, fixed, basic, text] of [[xaxis, x_select, x_fixed, x_basic, x_text],
                                                [yaxis, y_select, y_fixed, y_basic, y_text]]) {
  const f = factors[sel.value];
  axis.axis_label = sel.value;
  if (f != null) fixed.ticks = f.map((_, i) => i);
  axis.ticker = f != null ? fixed : basic;
  axis.formatter = f != null ? text : basic_format;
}
const by_run = c_select.value === "index" && run_colors != null;
const cf = by_run ? [...runs.data.name] : factors[c_select.value];
const m = colorbar.color_mapper.clone();
if (by_run || cf != null) {
  m.palette = by_run ? run_colors : categorical.slice(0, Math.max(cf.length, 1));
  m.low = -0.5;
  m.high = cf.length - 0.5;
  c_fixed.ticks = cf.map((_, i) => i);
  colorbar.ticker = c_fixed;
  colorbar.formatter = c_text;
} else {
  let lo = Infinity, hi = -Infinity;
  for (const v of data._sc) { if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
  if (!(lo <= hi)) { lo = 0; hi = 1; }
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  m.palette = continuous;
  m.low = lo;
  m.high = hi;
  colorbar.ticker = c_basic;
  colorbar.formatter = basic_format;
}
for (const g of [points.glyph, points.nonselection_glyph, points.selection_glyph, points.hover_glyph, points.muted_glyph]) {
  if (g != null && typeof g === "object" && "fill_color" in g) {
    g.fill_color = {field: "_sc", transform: m};
    g.line_color = {field: "_sc", transform: m};
  }
}
colorbar.title = by_run ? "run" : c_select.value;
colorbar.color_mapper = m;
const i = best[y_select.value];
best_source.data = i == null ? {x: [], y: []} : {x: [data._sx[i]], y: [data._sy[i]]};
"""

# The labels of a text column's ticks on a scatter axis or colour bar (canvas text).
# args: factors {column: [labels]}, select, runs
TEXT_TICKS = """
const f = select.value === "index" ? runs.data.name : factors[select.value];
return f != null && Number.isInteger(tick) && tick >= 0 && tick < f.length ? String(f[tick]) : "";
"""

# Diff table: hide the columns whose value is the same in every run.
# args: table, columns [TableColumn] (those equal in every run carry the tag "equal"), toggle
TABLE = """
const hide = toggle.active.length > 0;
table.columns = hide ? columns.filter((c) => !c.tags.includes("equal")) : columns;
"""

# Groups table: which column the runs are grouped by.
# args: group_filter, select, source
GROUPS = """
group_filter.group = select.value;
source.change.emit();
"""

# Runs table (wb.runs): keep the rows where some text column contains what was typed.
# args: source, index_filter, text_columns
FILTER_ROWS = """
const q = cb_obj.value_input.trim().toLowerCase();
if (q === "") {
  index_filter.indices = null;
} else {
  const n = source.get_length() ?? 0, keep = [];
  for (let i = 0; i < n; i++) {
    for (const c of text_columns) {
      const v = source.data[c][i];
      if (v != null && String(v).toLowerCase().includes(q)) { keep.push(i); break; }
    }
  }
  index_filter.indices = keep;
}
source.change.emit();
"""
