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
import { PersistentLedger } from '../lib';
import { seedRuns } from './helpers/dashboard-runs';
import { runEventInput, violation } from './helpers/run-events';
import { RunningSample, startSampleApp } from './helpers/sample-app';
import { makeTempDir, removeTempDirs } from './helpers/temp-dir';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
export const ARTIFACTS = join(__dirname, '..', 'test-artifacts');

if (!CHROMIUM && process.env.NESTJS_LEDGER_REQUIRE_BROWSER !== '1') {
  console.log('SKIPPED the dashboard browser tests: no Chromium at /usr/bin/chromium (apt-get install -y chromium)');
}
const describeWithBrowser = CHROMIUM || process.env.NESTJS_LEDGER_REQUIRE_BROWSER === '1' ? describe : describe.skip;

describeWithBrowser('ledger dashboard in a browser', () => {
  let sample: RunningSample;
  let ledger: PersistentLedger;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('NESTJS_LEDGER_REQUIRE_BROWSER=1 but no Chromium at /usr/bin/chromium: apt-get install -y chromium');
    sample = await startSampleApp(makeTempDir());
    ledger = sample.ledger;
    ledger.importEvents(seedRuns());
    await ledger.flush();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
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
});
