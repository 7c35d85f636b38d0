import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { renderHtml } from '../src/report/render-html.ts';
import { type ReportConversation, summarize } from '../src/report/summary.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

const base: ReportConversation = {
  id: '!a:hs#1',
  room_id: '!a:hs',
  channel: 'whatsapp',
  customer: { key: 'tel:+447700900201', phone: '+447700900201', mxid: null, name: 'Maria Silva' },
  started_at: '2026-11-21T08:02:00.000Z',
  last_message_at: '2026-11-21T11:52:00.000Z',
  message_count: 5,
  customer_message_count: 3,
  agent_message_count: 2,
  first_response_seconds: 540,
  resolution_seconds: 13800,
  status: 'RESOLVED',
  agents: ['@alice:hs'],
  encrypted: false,
  sentiment: { label: 'negative', score: -0.5 },
  intent: { label: 'technical', confidence: 0.8 },
  keywords: ['router', 'internet'],
  language: 'en',
};

describe('HTML report in a real browser', () => {
  it('renders every section with inline charts and no network request', async (t) => {
    if (!CHROMIUM) {
      t.skip('Chromium is not installed (apt-get install chromium); .ci/run installs it');
      return;
    }
    const list = [
      base,
      {
        ...base,
        id: '2',
        channel: 'wazo' as const,
        customer: { key: 'wazo:1', phone: null, mxid: '@wazo_1:hs', name: 'Nadia Haddad' },
        sentiment: { label: 'positive' as const, score: 0.6 },
        intent: { label: 'praise', confidence: 0.9 },
      },
    ];
    const html = renderHtml(
      summarize(list, { timezone: 'UTC', now: Date.parse('2026-11-22T00:00:00Z'), unansweredAfterMs: 3600_000 }),
      list,
      {
        generatedAt: '2026-11-22T00:00:00Z',
        since: null,
      },
    );
    const file = join(mkdtempSync(join(tmpdir(), 'mcb-report-')), 'report.html');
    writeFileSync(file, html);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      page.setDefaultTimeout(5000);
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      const headings = await page.locator('h2').allTextContents();
      assert.deepEqual(headings, [
        'Conversations by channel and status',
        'Sentiment',
        'Intents',
        'Top keywords',
        'Response times',
        'Unanswered conversations',
        'Customers with the most negative recent conversations',
        'Conversations',
      ]);
      assert.ok((await page.locator('svg').count()) >= 4);
      const box = await page.locator('svg[aria-label="Intents ranked"]').boundingBox();
      assert.ok(box && box.width > 100 && box.height > 10, 'chart is laid out');
      assert.match((await page.locator('#negative + table').textContent()) ?? '', /Maria Silva/);
      assert.deepEqual(
        requests.filter((u) => !u.startsWith('file:')),
        [],
      );
    } finally {
      await browser.close();
    }
  });
});
