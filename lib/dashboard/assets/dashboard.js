// The ledger dashboard page: reads <page>/api/summary, <page>/api/runs, <page>/api/runs/:id and follows
// <page>/api/stream. Plain browser JavaScript, no dependencies; charts are drawn as SVG.
(() => {
  'use strict';
  const base = location.pathname.replace(/\/+$/, '');
  const api = (path) => `${base}/api/${path}`;
  const $ = (id) => document.getElementById(id);
  const state = { window: 'all', page: 1, filters: {}, pages: 1, total: 0, pageSize: 50 };
  const number = (n, digits = 2) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(digits));
  const time = (t) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  };
  const SVG = 'http://www.w3.org/2000/svg';
  const svgEl = (tag, attrs = {}) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  };

  async function getJson(path) {
    const response = await fetch(api(path), { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }

  function windowBounds() {
    if (state.window === 'all') return '';
    const to = Date.now();
    return `from=${to - Number(state.window) * 3600000}&to=${to}`;
  }

  // Headline metrics, charts and ranking.
  async function loadSummary() {
    const summary = await getJson(`summary?${windowBounds()}`);
    const m = summary.metrics;
    const cards = [
      ['violationRate', 'Violations per 10 runs', number(m.violationRate)],
      ['selfCorrectionRate', 'Self-corrected', `${number(m.selfCorrectionRate * 100, 1)} %`],
      ['reworkLines', 'Mean rework (lines)', number(m.reworkLines)],
      ['clarifyingQuestions', 'Clarifying questions per run', number(m.clarifyingQuestions)],
      ['taskCount', 'Runs', number(m.taskCount)],
    ];
    $('headline').replaceChildren(
      ...cards.map(([key, label, value]) =>
        el(
          'div',
          { class: 'card', 'data-metric': key, 'data-value': String(m[key]) },
          el('div', { class: 'value' }, value),
          el('div', { class: 'label' }, label),
        ),
      ),
    );
    for (const node of document.querySelectorAll('.bucket')) node.textContent = summary.window.bucket;
    const series = summary.series;
    bars(
      $('chart-runs'),
      series.map((p) => [p.start, p.runs]),
    );
    line(
      $('chart-violations'),
      series.map((p) => [p.start, p.violationRate]),
    );
    line(
      $('chart-rework'),
      series.map((p) => [p.start, p.reworkLines]),
    );
    line(
      $('chart-tests'),
      series.filter((p) => p.testPassRate !== null).map((p) => [p.start, p.testPassRate * 100]),
      '%',
    );
    ranking(summary.ranking);
  }

  function frame(svg) {
    svg.replaceChildren();
    const width = svg.clientWidth || 400;
    const height = svg.clientHeight || 140;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    return { width, height, pad: 28 };
  }

  function axisLabels(svg, { width, height, pad }, max, points, unit = '') {
    svg.append(svgEl('line', { class: 'axis', x1: pad, y1: height - pad, x2: width - 4, y2: height - pad }));
    const top = svgEl('text', { x: 2, y: 10 });
    top.textContent = `${number(max, 1)}${unit}`;
    svg.append(top);
    if (points.length > 0) {
      const first = svgEl('text', { x: pad, y: height - 8 });
      first.textContent = time(points[0][0]).slice(0, 13);
      const last = svgEl('text', { x: width - 4, y: height - 8, 'text-anchor': 'end' });
      last.textContent = time(points[points.length - 1][0]).slice(0, 13);
      svg.append(first, last);
    }
  }

  function empty(svg, f) {
    const text = svgEl('text', { x: f.width / 2, y: f.height / 2, 'text-anchor': 'middle' });
    text.textContent = 'no runs in this window';
    svg.append(text);
  }

  function bars(svg, points) {
    const f = frame(svg);
    if (points.length === 0) return empty(svg, f);
    const max = Math.max(...points.map((p) => p[1]), 1);
    const step = (f.width - f.pad - 4) / points.length;
    points.forEach(([, value], i) => {
      const h = ((f.height - 2 * f.pad) * value) / max;
      svg.append(svgEl('rect', { class: 'bar', x: f.pad + i * step + 1, y: f.height - f.pad - h, width: Math.max(step - 2, 1), height: h }));
    });
    axisLabels(svg, f, max, points);
  }

  function line(svg, points, unit = '') {
    const f = frame(svg);
    if (points.length === 0) return empty(svg, f);
    const max = Math.max(...points.map((p) => p[1]), 1e-9);
    const step = points.length > 1 ? (f.width - f.pad - 8) / (points.length - 1) : 0;
    const xy = points.map(([, value], i) => [f.pad + 4 + i * step, f.height - f.pad - ((f.height - 2 * f.pad) * value) / max]);
    svg.append(svgEl('polyline', { class: 'line', points: xy.map((p) => p.join(',')).join(' ') }));
    for (const [x, y] of xy) svg.append(svgEl('circle', { class: 'dot', cx: x, cy: y, r: 2.5 }));
    axisLabels(svg, f, max, points, unit);
  }

  function ranking(rows) {
    const svg = $('chart-ranking');
    const shown = rows.slice(0, 10);
    const rowHeight = 22;
    svg.replaceChildren();
    const width = svg.clientWidth || 600;
    svg.setAttribute('viewBox', `0 0 ${width} ${Math.max(shown.length, 1) * rowHeight}`);
    svg.style.height = `${Math.max(shown.length, 1) * rowHeight}px`;
    const max = Math.max(...shown.map((r) => r.score), 1e-9);
    shown.forEach((r, i) => {
      const label = svgEl('text', { x: 0, y: i * rowHeight + 15 });
      label.textContent = r.ruleId;
      const barWidth = Math.max(((width - 180) * r.score) / max, 1);
      svg.append(label, svgEl('rect', { class: 'bar', x: 140, y: i * rowHeight + 4, width: barWidth, height: rowHeight - 8 }));
      const value = svgEl('text', { x: 144 + barWidth, y: i * rowHeight + 15 });
      value.textContent = number(r.score, 1);
      svg.append(value);
    });
    if (shown.length === 0) empty(svg, { width, height: rowHeight });
    $('ranking-rows').replaceChildren(
      ...rows.map((r) =>
        el(
          'tr',
          { 'data-rule': r.ruleId },
          el('td', {}, r.ruleId),
          el('td', {}, number(r.frequency)),
          el('td', {}, number(r.cost)),
          el('td', {}, number(r.score)),
        ),
      ),
    );
  }

  // The runs table.
  function runsQuery() {
    const params = new URLSearchParams({ page: String(state.page) });
    for (const [k, v] of Object.entries(state.filters)) if (v !== '') params.set(k, v);
    return params.toString();
  }

  function runRow(run, fresh = false) {
    const tests = run.testsRan ? (run.testsFailed === 0 ? 'passed' : `${run.testsFailed} failed`) : 'not run';
    const row = el(
      'tr',
      { class: fresh ? 'run fresh' : 'run', 'data-event-id': run.eventId },
      el('td', {}, time(run.timestamp)),
      el('td', {}, run.taskId),
      el('td', {}, run.intent),
      el('td', { class: `outcome-${run.outcome}` }, run.outcome),
      el('td', {}, String(run.violations)),
      el('td', {}, tests),
      el('td', {}, String(run.reworkLines)),
      el('td', {}, el('code', {}, run.eventId.slice(0, 13))),
    );
    row.addEventListener('click', () => showDetail(run.eventId));
    return row;
  }

  function showTotal() {
    $('runs-total').textContent = `${number(state.total)} matching`;
  }

  async function loadRuns() {
    const result = await getJson(`runs?${runsQuery()}`);
    state.pages = result.pages;
    state.pageSize = result.pageSize;
    state.total = result.total;
    showTotal();
    $('page').textContent = `page ${result.page} of ${result.pages}`;
    $('prev').disabled = result.page <= 1;
    $('next').disabled = result.page >= result.pages;
    $('runs-rows').replaceChildren(
      ...(result.runs.length ? result.runs.map((run) => runRow(run)) : [el('tr', {}, el('td', { class: 'empty', colspan: '8' }, 'no runs match'))]),
    );
  }

  function matches(run) {
    const f = state.filters;
    if (f.taskId && run.taskId !== f.taskId) return false;
    if (f.from && run.timestamp < Number(f.from)) return false;
    if (f.to && run.timestamp > Number(f.to)) return false;
    if (f.outcome && run.outcome !== f.outcome) return false;
    if (f.violations === 'with' && run.violations === 0) return false;
    if (f.violations === 'without' && run.violations > 0) return false;
    return true;
  }

  async function showDetail(eventId) {
    const { event, evaluation } = await getJson(`runs/${encodeURIComponent(eventId)}`);
    $('detail-id').textContent = event.eventId;
    $('detail-fields').textContent = JSON.stringify(event, null, 2);
    $('detail-verdicts').replaceChildren(
      ...evaluation.map((v) =>
        el(
          'li',
          { class: v.passed ? 'verdict-pass' : 'verdict-fail', 'data-evaluator': v.name },
          `${v.name}: ${v.details}${v.score === undefined ? '' : ` (score ${number(v.score)})`}`,
        ),
      ),
    );
    $('detail').hidden = false;
    $('detail').scrollIntoView({ behavior: 'smooth' });
  }

  // Live: every stored event arrives on the stream; the table gains it at once (no request), the
  // summary is asked for again at most once a second (it is served from sums, whatever the store's size).
  let summaryTimer = null;
  function follow() {
    const source = new EventSource(api('stream'));
    source.onopen = () => {
      $('live').textContent = 'live';
      $('live').classList.add('on');
    };
    source.onerror = () => {
      $('live').textContent = 'reconnecting…';
      $('live').classList.remove('on');
    };
    source.addEventListener('run', (message) => {
      const run = JSON.parse(message.data);
      if (matches(run)) {
        state.total += 1;
        showTotal();
        if (state.page === 1) {
          const rows = $('runs-rows');
          if (rows.querySelector('td.empty')) rows.replaceChildren();
          rows.prepend(runRow(run, true));
          while (rows.children.length > state.pageSize) rows.lastElementChild.remove();
        }
      }
      summaryTimer ??= setTimeout(() => {
        summaryTimer = null;
        loadSummary().catch(report);
      }, 1000);
    });
  }

  function report(err) {
    $('live').textContent = `error: ${err.message}`;
  }

  $('window').addEventListener('change', (e) => {
    state.window = e.target.value;
    loadSummary().catch(report);
  });
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    const at = (name) => (data.get(name) ? String(Date.parse(`${data.get(name)}Z`)) : '');
    state.filters = {
      taskId: String(data.get('taskId') || ''),
      from: at('from'),
      to: at('to'),
      outcome: String(data.get('outcome') || ''),
      violations: String(data.get('violations') || ''),
    };
    state.page = 1;
    loadRuns().catch(report);
  });
  $('prev').addEventListener('click', () => {
    state.page = Math.max(1, state.page - 1);
    loadRuns().catch(report);
  });
  $('next').addEventListener('click', () => {
    state.page = Math.min(state.pages, state.page + 1);
    loadRuns().catch(report);
  });
  $('detail-close').addEventListener('click', () => ($('detail').hidden = true));

  Promise.all([loadSummary(), loadRuns()])
    .then(() => document.body.setAttribute('data-ready', 'true'))
    .catch(report);
  follow();
})();
