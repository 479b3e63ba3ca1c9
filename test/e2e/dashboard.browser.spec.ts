/**
 * The dashboard page in a real browser: headless Chromium (the Debian package) driven by
 * playwright-core, on the sample app with seeded runs. The headline equals computeMetrics(), the
 * ranking rankViolations(), the charts are drawn, filters change the rows, a run's detail shows
 * every evaluator, a new event appears without reloading. Keeps a screenshot in test-artifacts/.
 *
 * Needs `chromium` (apt-get install -y chromium); `.ci/run` installs it. Without it the suite says
 * so and is skipped, unless NESTJS_LEDGER_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { PersistentLedger } from '../../lib';
import { seedRuns } from '../helpers/dashboard-runs';
import { appendEventLines } from '../helpers/ndjson';
import { runEventInput, violation } from '../helpers/run-events';
import { RunningSample, startSampleApp } from '../helpers/sample-app';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
export const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

if (!CHROMIUM && process.env.NESTJS_LEDGER_REQUIRE_BROWSER !== '1') {
  console.log('SKIPPED the dashboard browser tests: no Chromium at /usr/bin/chromium (apt-get install -y chromium)');
}
const describeWithBrowser = CHROMIUM || process.env.NESTJS_LEDGER_REQUIRE_BROWSER === '1' ? describe : describe.skip;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function launchChromium(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('NESTJS_LEDGER_REQUIRE_BROWSER=1 but no Chromium at /usr/bin/chromium: apt-get install -y chromium');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** The page's console errors and failed responses (4xx, 5xx), from now on. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  return problems;
}

describeWithBrowser('ledger dashboard in a browser', () => {
  let sample: RunningSample;
  let ledger: PersistentLedger;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    sample = await startSampleApp(makeTempDir());
    ledger = sample.ledger;
    ledger.importEvents(seedRuns());
    await ledger.flush();
    page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    problems = watchProblems(page);
    await page.goto(`${sample.base}/ledger`);
    await page.waitForSelector('body[data-ready="true"]');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sample?.app.close();
    removeTempDirs();
  });

  it('the headline numbers are computeMetrics() and the ranking table is rankViolations()', async () => {
    const headline = await page.$$eval('[data-metric]', (cards) =>
      Object.fromEntries(cards.map((c) => [c.getAttribute('data-metric'), Number(c.getAttribute('data-value'))])),
    );
    expect(headline).toEqual(ledger.computeMetrics());
    const ranking = await page.$$eval('[data-testid="ranking"] tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
    );
    expect(ranking).toEqual(
      ledger
        .rankViolations()
        .map((r) => [
          r.ruleId,
          String(r.frequency),
          Number.isInteger(r.cost) ? String(r.cost) : r.cost.toFixed(2),
          Number.isInteger(r.score) ? String(r.score) : r.score.toFixed(2),
        ]),
    );
  });

  it('draws every chart: bars per bucket, lines of the rates, the ranking bars', async () => {
    expect(await page.locator('[data-testid="chart-runs"] rect.bar').count()).toBe(10);
    for (const id of ['chart-violations', 'chart-rework', 'chart-tests']) {
      const points = await page.getAttribute(`[data-testid="${id}"] polyline`, 'points');
      expect(points!.trim().split(' ')).toHaveLength(10);
    }
    expect(await page.locator('[data-testid="chart-ranking"] rect.bar').count()).toBe(ledger.rankViolations().length);
  });

  it('filters change the rows; paging moves through them; a click shows every evaluator', async () => {
    expect(await page.locator('[data-testid="runs"] tbody tr.run').count()).toBe(50);
    expect(await page.textContent('[data-testid="runs-total"]')).toBe('240 matching');
    await page.fill('[data-testid="filter-task"]', 't5');
    await page.selectOption('[data-testid="filter-violations"]', 'with');
    await page.click('#filters button[type="submit"]');
    const expected = ledger
      .getEvents()
      .filter((e) => e.taskId === 't5' && e.violations.length > 0)
      .reverse()
      .map((e) => e.eventId);
    await page.waitForFunction(`document.querySelectorAll('[data-testid="runs"] tbody tr.run').length === ${expected.length}`);
    expect(await page.$$eval('[data-testid="runs"] tbody tr.run', (rows) => rows.map((r) => r.getAttribute('data-event-id')))).toEqual(expected);

    await page.fill('[data-testid="filter-task"]', '');
    await page.selectOption('[data-testid="filter-violations"]', '');
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(`document.querySelector('[data-testid="page"]').textContent === 'page 1 of 5'`);
    await page.click('[data-testid="next"]');
    await page.waitForFunction(`document.querySelector('[data-testid="page"]').textContent === 'page 2 of 5'`);
    const second = ledger
      .getEvents()
      .reverse()
      .slice(50, 100)
      .map((e) => e.eventId);
    expect(await page.$$eval('[data-testid="runs"] tbody tr.run', (rows) => rows.map((r) => r.getAttribute('data-event-id')))).toEqual(second);
    await page.click('[data-testid="prev"]');
    await page.waitForFunction(`document.querySelector('[data-testid="page"]').textContent === 'page 1 of 5'`);

    const target = ledger.getEvents().at(-1)!;
    await page.click(`tr[data-event-id="${target.eventId}"]`);
    await page.waitForSelector('[data-testid="detail"]:not([hidden])');
    const verdicts = await page.$$eval('[data-testid="detail-verdicts"] li', (items) => items.map((i) => i.getAttribute('data-evaluator')));
    expect(verdicts).toEqual((await ledger.evaluate(target)).map((v) => v.name));
    expect(JSON.parse((await page.textContent('[data-testid="detail-fields"]'))!)).toEqual(target);
  });

  it('a new event appears live, without reloading, and the headline follows', async () => {
    await page.waitForSelector('[data-testid="live"].on');
    const logged = ledger.logEvent(runEventInput({ taskId: 'live-run', timestamp: Date.UTC(2026, 10, 30), violations: [violation('no-any')] }));
    await ledger.flush();
    await page.waitForSelector(`tr[data-event-id="${logged.eventId}"]`, { timeout: 10_000 });
    expect(await page.textContent('[data-testid="runs-total"]')).toBe('241 matching');
    await page.waitForFunction(`document.querySelector('[data-metric="taskCount"]').getAttribute('data-value') === '241'`, undefined, {
      timeout: 10_000,
    });
    const headline = await page.$$eval('[data-metric]', (cards) =>
      Object.fromEntries(cards.map((c) => [c.getAttribute('data-metric'), Number(c.getAttribute('data-value'))])),
    );
    expect(headline).toEqual(ledger.computeMetrics());
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'dashboard.png'))).toBe(true);
  });

  it('the Event column tells apart runs logged in the same millisecond (UUIDv7 ids); the full id is its title', async () => {
    const logged = Array.from({ length: 5 }, (_, i) => ledger.logEvent(runEventInput({ taskId: `loop-${i}`, timestamp: Date.UTC(2026, 10, 30) })));
    await ledger.flush();
    for (const event of logged) await page.waitForSelector(`tr[data-event-id="${event.eventId}"]`, { timeout: 10_000 });
    const cells = await page.$$eval('[data-testid="runs"] tbody tr.run', (rows) =>
      rows.slice(0, 5).map((r) => {
        const code = r.querySelector('td:last-child code')!;
        return { id: r.getAttribute('data-event-id')!, label: code.textContent!, title: code.getAttribute('title') };
      }),
    );
    expect(cells.map((c) => c.id).sort()).toEqual(logged.map((e) => e.eventId).sort());
    expect(new Set(cells.map((c) => c.label)).size).toBe(5);
    for (const cell of cells) {
      expect(cell.title).toBe(cell.id);
      expect(cell.id.endsWith(cell.label.replace(/^…/, ''))).toBe(true);
    }
  });

  it('has an icon of its own: no request for /favicon.ico, nothing failed and no console error all along', async () => {
    expect(await page.getAttribute('link[rel="icon"]', 'href')).toMatch(/^data:/);
    expect(problems).toEqual([]);
  });
});

describeWithBrowser('ledger dashboard in a browser: time axis, and a stored timestamp that no date can hold', () => {
  /** UTC midnight of "day 1"; runs on days 1, 2 and 5, tests run on days 2 and 5 only. */
  const D1 = Date.UTC(2025, 2, 3);
  const dated = [0, 1, 4].map((day) => ({
    ...runEventInput({
      taskId: `day-${day + 1}`,
      timestamp: D1 + day * DAY + 10 * HOUR,
      testResults: { ran: day > 0, passed: 1, failed: 0, skipped: 0 },
    }),
    eventId: `day-${day + 1}`,
  }));
  /** Written into the log directly (the validator is not asked); held unless reading refuses it. */
  const beyondDates = { ...runEventInput({ taskId: 'beyond-dates', timestamp: 1e16 }), eventId: 'beyond-dates' };
  let sample: RunningSample;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    const dir = makeTempDir();
    appendEventLines(dir, [dated[0], dated[1], beyondDates, dated[2]]);
    sample = await startSampleApp(dir);
    page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    problems = watchProblems(page);
    await page.goto(`${sample.base}/ledger`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sample?.app.close();
    removeTempDirs();
  });

  it('draws every run the ledger holds; a timestamp that is not a date is shown as its raw number', async () => {
    const held = sample.ledger.getEvents();
    const rows = await page.$$eval('[data-testid="runs"] tbody tr.run', (trs) =>
      trs.map((r) => [r.getAttribute('data-event-id'), r.querySelector('td')!.textContent]),
    );
    expect(rows.map(([id]) => id)).toEqual([...held].reverse().map((e) => e.eventId));
    expect(rows.find(([id]) => id === 'day-5')![1]).toBe('2025-03-07 10:00:00');
    if (held.some((e) => e.eventId === 'beyond-dates')) expect(rows.find(([id]) => id === 'beyond-dates')![1]).toBe('10000000000000000');
    expect(await page.textContent('[data-testid="live"]')).not.toMatch(/error/);
    expect(problems).toEqual([]);
  });

  it('charts share one time axis: quiet days are zero-run bars, x is proportional to time, axes are named, in UTC', async () => {
    const days = [0, 1, 2, 3, 4].map((day) => D1 + day * DAY);
    const domains = await page.$$eval('svg[data-x-from]', (svgs) => svgs.map((s) => [s.id, Number(s.dataset.xFrom), Number(s.dataset.xTo)]));
    expect(domains).toEqual(['chart-runs', 'chart-violations', 'chart-rework', 'chart-tests'].map((id) => [id, D1, D1 + 5 * DAY]));

    const bars = await page.$$eval('[data-testid="chart-runs"] rect.bar', (rects) =>
      rects.map((r) => ({ start: Number(r.dataset.start), runs: Number(r.dataset.runs), x: Number(r.getAttribute('x')) })),
    );
    expect(bars.map((b) => [b.start, b.runs])).toEqual(days.map((start, i) => [start, [1, 1, 0, 0, 1][i]]));
    const perDay = bars[1].x - bars[0].x;
    expect(perDay).toBeGreaterThan(0);
    bars.forEach((bar, i) => expect(bar.x - bars[0].x).toBeCloseTo(i * perDay, 6));

    const dots = (id: string) =>
      page.$$eval(`[data-testid="${id}"] circle.dot`, (circles) => circles.map((c) => [Number(c.dataset.start), Number(c.getAttribute('cx'))]));
    const violations = await dots('chart-violations');
    expect(violations.map(([start]) => start)).toEqual([days[0], days[1], days[4]]);
    const [[, x1], [, x2], [, x5]] = violations;
    expect(x5 - x1).toBeCloseTo(4 * (x2 - x1), 6);
    // Test pass rate has no value on day 1, and its points sit where the other charts' do.
    expect(await dots('chart-tests')).toEqual([violations[1], violations[2]]);

    const titles = await page.$$eval('[data-testid="chart-runs"] text.axis-title', (texts) => texts.map((t) => t.textContent));
    expect(titles).toEqual(expect.arrayContaining(['runs', 'day (UTC)']));
    for (const id of ['chart-violations', 'chart-rework', 'chart-tests']) {
      expect(await page.locator(`[data-testid="${id}"] text.axis-title`).count()).toBe(2);
    }
    expect(await page.textContent('[data-testid="timezone"]')).toContain('UTC');
  });
});

describeWithBrowser('ledger dashboard in a browser behind the sample token guard', () => {
  let sample: RunningSample;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
    process.env.LEDGER_DASHBOARD_TOKEN = 'abc';
    sample = await startSampleApp(makeTempDir());
    sample.ledger.importEvents(seedRuns(30));
    await sample.ledger.flush();
  }, 60_000);

  afterAll(async () => {
    delete process.env.LEDGER_DASHBOARD_TOKEN;
    await browser?.close();
    await sample?.app.close();
    removeTempDirs();
  });

  it('opened as <path>?token=..., the page carries the token to every endpoint and the stream: rows, charts, live', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    const problems = watchProblems(page);
    await page.goto(`${sample.base}/ledger?token=abc`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    expect(await page.locator('[data-testid="runs"] tbody tr.run').count()).toBe(30);
    expect(await page.getAttribute('[data-metric="taskCount"]', 'data-value')).toBe('30');
    await page.waitForSelector('[data-testid="live"].on', { timeout: 10_000 });
    const logged = sample.ledger.logEvent(runEventInput({ taskId: 'behind-the-guard' }));
    await sample.ledger.flush();
    await page.waitForSelector(`tr[data-event-id="${logged.eventId}"]`, { timeout: 10_000 });
    await page.click(`tr[data-event-id="${logged.eventId}"]`);
    await page.waitForSelector('[data-testid="detail"]:not([hidden])', { timeout: 10_000 });
    expect(problems).toEqual([]);
  });
});
