import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** The page's globals inside page.evaluate callbacks (this project compiles without the DOM lib). */
declare const document: any;

/** Debian's Chromium, headless; scripts/test.sh installs it (scripts/ensure-chromium.sh). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/ensure-chromium.sh\` (npm test does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Generous waits: CI machines are shared and slow; nothing here asserts on time. */
export async function newPage(browser: Browser, opts: Parameters<Browser['newPage']>[0] = {}): Promise<Page> {
  const page = await browser.newPage(opts);
  page.setDefaultTimeout(90_000);
  return page;
}

export async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.fill('#apikey', key);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
}

export async function openCampaign(page: Page, url: string, key: string, campaignKey: string): Promise<void> {
  await signIn(page, url, key);
  await page.click(`#campaign-list a[data-key="${campaignKey}"]`);
  await page.waitForSelector('#campaign:not([hidden])');
}

/**
 * Each chart's axis labels as drawn, measured in the page with the chart's own font: time
 * labels that overlap their neighbour or reach past the canvas, and value labels wider than
 * the value axis. Empty lists mean readable axes.
 */
export function chartAxisProblems(page: Page): Promise<Array<{ chart: string; xLabels: string[]; problems: string[] }>> {
  return page.$$eval('.charts [data-x-ticks]', (charts: any[]) => {
    const ctx = document.createElement('canvas').getContext('2d');
    return charts.map((c) => {
      ctx.font = c.dataset.font;
      const width = (t: string) => ctx.measureText(t).width;
      const x: Array<[number, string]> = JSON.parse(c.dataset.xTicks);
      const y: string[] = JSON.parse(c.dataset.yTicks);
      const canvasWidth = Number(c.dataset.width);
      const yAxisPx = Number(c.dataset.yAxisPx);
      const problems: string[] = [];
      x.forEach(([at, text], i) => {
        if (at - width(text) / 2 < 0) problems.push(`${text} is clipped at the left edge`);
        if (at + width(text) / 2 > canvasWidth) problems.push(`${text} is clipped at the right edge`);
        const next = x[i + 1];
        if (next && next[0] - at < (width(text) + width(next[1])) / 2 + 4) problems.push(`${text} overlaps ${next[1]}`);
      });
      if (new Set(x.map(([, t]) => t)).size !== x.length) problems.push(`repeated time labels ${x.map(([, t]) => t).join(' ')}`);
      for (const text of y) if (width(text) > yAxisPx - 15) problems.push(`value label ${text} is wider than its axis`);
      return { chart: c.id, xLabels: x.map(([, t]) => t), problems };
    });
  });
}
