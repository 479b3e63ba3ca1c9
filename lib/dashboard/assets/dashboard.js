// The ledger dashboard page: reads <page>/api/summary, <page>/api/runs, <page>/api/runs/:id and follows
// <page>/api/stream. Plain browser JavaScript, no dependencies; charts are drawn as SVG.
(() => {
  'use strict';
  const base = location.pathname.replace(/\/+$/, '');
  // The page's own query parameters (a guard's ?token=, ...) go with every request it makes, the
  // stream included (an EventSource cannot send headers), except the names the endpoints use themselves.
  const API_PARAMS = new Set(['from', 'to', 'taskId', 'outcome', 'violations', 'page', 'pageSize']);
  const pageParams = [...new URLSearchParams(location.search)].filter(([name]) => !API_PARAMS.has(name));
  const api = (path, params = {}) => {
    const query = new URLSearchParams(pageParams);
    for (const [name, value] of Object.entries(params)) if (value !== '' && value !== undefined) query.set(name, value);
    const search = query.toString();
    return `${base}/api/${path}${search ? `?${search}` : ''}`;
  };
  const $ = (id) => document.getElementById(id);
  const state = { window: 'all', page: 1, filters: {}, pages: 1, total: 0, pageSize: 50 };
  const number = (n, digits = 2) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(digits));
  // UTC, "2025-03-07 10:00:00"; a stored timestamp no Date can hold (beyond ±8.64e15 ms) is shown as its number.
  const time = (t) => {
    const date = new Date(t);
    if (Number.isNaN(date.getTime())) return String(t);
    const [day, clock] = date.toISOString().split('T');
    return `${day} ${clock.slice(0, 8)}`;
  };
  // UUIDv7 ids begin with their millisecond: the end tells runs apart (the full id is the cell's title).
  const shortId = (id) => (id.length <= 13 ? id : `…${id.slice(-12)}`);
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

  async function getJson(path, params) {
    const response = await fetch(api(path, params), { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }

  function windowBounds() {
    if (state.window === 'all') return {};
    const to = Date.now();
    return { from: String(to - Number(state.window) * 3600000), to: String(to) };
  }

  // Headline metrics, charts and ranking.
  async function loadSummary() {
    const summary = await getJson('summary', windowBounds());
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
    const bucket = summary.window.bucket;
    for (const node of document.querySelectorAll('.bucket')) node.textContent = bucket;
    // One time axis for every chart: from the first bucket's start to the last one's end.
    const series = summary.series;
    const domain = series.length > 0 ? [series[0].start, series[series.length - 1].end] : null;
    const points = (value) => series.map((p) => ({ start: p.start, end: p.end, value: value(p) }));
    const axes = (y, unit = '') => ({ y, x: `${bucket} (UTC)`, bucket, unit });
    bars(
      $('chart-runs'),
      domain,
      points((p) => p.runs),
      axes('runs'),
    );
    line(
      $('chart-violations'),
      domain,
      points((p) => p.violationRate),
      axes('per 10 runs'),
    );
    line(
      $('chart-rework'),
      domain,
      points((p) => p.reworkLines),
      axes('lines'),
    );
    line(
      $('chart-tests'),
      domain,
      points((p) => (p.testPassRate === null ? null : p.testPassRate * 100)),
      axes('% passed', '%'),
    );
    ranking(summary.ranking);
  }

  // A chart's frame: the plot area, the time scale over `domain` and the value scale up to `max`.
  function frame(svg, domain) {
    svg.replaceChildren();
    const width = svg.clientWidth || 400;
    const height = svg.clientHeight || 160;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    if (domain) {
      svg.dataset.xFrom = String(domain[0]);
      svg.dataset.xTo = String(domain[1]);
    } else {
      delete svg.dataset.xFrom;
      delete svg.dataset.xTo;
    }
    const f = { width, height, left: 44, right: width - 8, top: 10, bottom: height - 34 };
    f.x = (t) => f.left + ((t - domain[0]) / (domain[1] - domain[0])) * (f.right - f.left);
    return f;
  }

  // A tick's label, as precise as the bucket: 2025-03-07 10:00, 2025-03-07, 2025-03, 2025.
  function tickLabel(t, bucket) {
    const text = time(t);
    if (text === String(t)) return text;
    if (bucket === 'hour') return `${text.slice(0, -3)}`;
    if (bucket === 'day' || bucket === 'week') return text.split(' ')[0];
    if (bucket === 'month') return text.split(' ')[0].replace(/-\d\d$/, '');
    return text.split(' ')[0].replace(/-\d\d-\d\d$/, '');
  }

  function text(svg, content, attrs) {
    const node = svgEl('text', attrs);
    node.textContent = content;
    svg.append(node);
  }

  // Axes, at most five ticks on the time axis (at bucket starts), 0 and the maximum on the value axis, and both named.
  function axes(svg, f, max, points, names) {
    svg.append(svgEl('line', { class: 'axis', x1: f.left, y1: f.bottom, x2: f.right, y2: f.bottom }));
    svg.append(svgEl('line', { class: 'axis', x1: f.left, y1: f.top, x2: f.left, y2: f.bottom }));
    text(svg, `${number(max, 1)}${names.unit}`, { class: 'tick', x: f.left - 4, y: f.top + 8, 'text-anchor': 'end' });
    text(svg, `0${names.unit}`, { class: 'tick', x: f.left - 4, y: f.bottom, 'text-anchor': 'end' });
    const every = Math.ceil(points.length / 5);
    points.forEach((p, i) => {
      if (i % every !== 0) return;
      const x = f.x(p.start);
      svg.append(svgEl('line', { class: 'axis', x1: x, y1: f.bottom, x2: x, y2: f.bottom + 4 }));
      text(svg, tickLabel(p.start, names.bucket), { class: 'tick', x, y: f.bottom + 14, 'text-anchor': i === 0 ? 'start' : 'middle' });
    });
    const middle = (f.top + f.bottom) / 2;
    text(svg, names.y, { class: 'axis-title', x: 10, y: middle, 'text-anchor': 'middle', transform: `rotate(-90 10 ${middle})` });
    text(svg, names.x, { class: 'axis-title', x: (f.left + f.right) / 2, y: f.height - 4, 'text-anchor': 'middle' });
  }

  function empty(svg, f) {
    text(svg, 'no runs in this window', { x: f.width / 2, y: f.height / 2, 'text-anchor': 'middle' });
  }

  // A bar per bucket, from its start to its end (zero high when no runs).
  function bars(svg, domain, points, names) {
    const f = frame(svg, domain);
    if (!domain) return empty(svg, f);
    const max = Math.max(...points.map((p) => p.value), 1);
    for (const p of points) {
      const h = ((f.bottom - f.top) * p.value) / max;
      const x = f.x(p.start);
      svg.append(
        svgEl('rect', {
          class: 'bar',
          'data-start': p.start,
          'data-runs': p.value,
          x,
          y: f.bottom - h,
          width: Math.max(f.x(p.end) - x - 1, 0.5),
          height: h,
        }),
      );
    }
    axes(svg, f, max, points, names);
  }

  // A point at the middle of each bucket that has a value; the line breaks where a bucket has none.
  function line(svg, domain, points, names) {
    const f = frame(svg, domain);
    if (!domain) return empty(svg, f);
    const valued = points.filter((p) => p.value !== null);
    const max = Math.max(...valued.map((p) => p.value), 1e-9);
    const xy = (p) => [f.x((p.start + p.end) / 2), f.bottom - ((f.bottom - f.top) * p.value) / max];
    let stretch = [];
    const draw = () => {
      if (stretch.length > 0) svg.append(svgEl('polyline', { class: 'line', points: stretch.map((p) => xy(p).join(',')).join(' ') }));
      stretch = [];
    };
    for (const p of points) {
      if (p.value === null) draw();
      else stretch.push(p);
    }
    draw();
    for (const p of valued) {
      const [cx, cy] = xy(p);
      svg.append(svgEl('circle', { class: 'dot', 'data-start': p.start, cx, cy, r: 2.5 }));
    }
    axes(svg, f, max, points, names);
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
    return { ...state.filters, page: String(state.page) };
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
      el('td', {}, el('code', { title: run.eventId }, shortId(run.eventId))),
    );
    row.addEventListener('click', () => showDetail(run.eventId));
    return row;
  }

  function showTotal() {
    $('runs-total').textContent = `${number(state.total)} matching`;
  }

  async function loadRuns() {
    const result = await getJson('runs', runsQuery());
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
    // The server no longer holds the last event this page received (a compaction meanwhile): load again.
    source.addEventListener('reset', () => {
      loadRuns().catch(report);
      loadSummary().catch(report);
    });
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

  // Shown beside the live status, not in it (the stream's status would overwrite it).
  function report(err) {
    $('problem').textContent = `error: ${err.message}`;
    $('problem').hidden = false;
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

  // Each part draws on its own: a failure of one leaves the other on the page.
  Promise.allSettled([loadSummary(), loadRuns()]).then((results) => {
    for (const result of results) if (result.status === 'rejected') report(result.reason);
    document.body.setAttribute('data-ready', 'true');
  });
  follow();
})();
