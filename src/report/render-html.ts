/**
 * The report as one self-contained HTML page: inline CSS and SVG charts, no script, no external resource,
 * readable without JavaScript and printable.
 */
import { customerLabel, formatDuration, type ReportConversation, type ReportSummary } from './summary.ts';

const COLORS = { positive: '#2e9d57', neutral: '#9aa4ae', negative: '#d1453b', bar: '#3b6fd1' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function hbars(items: { label: string; value: number }[], title: string): string {
  if (items.length === 0) return '<p class="empty">No data yet.</p>';
  const max = Math.max(...items.map((i) => i.value), 1);
  const rowH = 24;
  const w = 520;
  const labelW = 150;
  const rows = items
    .map((it, i) => {
      const bw = Math.max(2, ((w - labelW - 50) * it.value) / max);
      const y = i * rowH;
      return `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(it.label)}</text><rect x="${labelW}" y="${y + 4}" width="${bw.toFixed(1)}" height="16" fill="${COLORS.bar}" rx="2"/><text x="${(labelW + bw + 6).toFixed(1)}" y="${y + 16}">${it.value}</text>`;
    })
    .join('');
  return `<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${w} ${items.length * rowH}" width="${w}" height="${items.length * rowH}">${rows}</svg>`;
}

function sentimentDays(days: ReportSummary['sentimentByDay']): string {
  if (days.length === 0) return '<p class="empty">No data yet.</p>';
  const h = 160;
  const colW = 44;
  const max = Math.max(...days.map((d) => d.positive + d.neutral + d.negative), 1);
  const cols = days
    .map((d, i) => {
      const x = 30 + i * colW;
      let y = h;
      const seg = (n: number, color: string) => {
        const sh = (n / max) * (h - 20);
        y -= sh;
        return n > 0
          ? `<rect x="${x}" y="${y.toFixed(1)}" width="${colW - 10}" height="${sh.toFixed(1)}" fill="${color}"/>`
          : '';
      };
      return `${seg(d.negative, COLORS.negative)}${seg(d.neutral, COLORS.neutral)}${seg(d.positive, COLORS.positive)}<text x="${x + (colW - 10) / 2}" y="${h + 14}" text-anchor="middle" class="small">${escapeHtml(d.day.slice(5))}</text>`;
    })
    .join('');
  const width = 40 + days.length * colW;
  return `<svg role="img" aria-label="Sentiment per day" viewBox="0 0 ${width} ${h + 20}" width="${width}" height="${h + 20}">${cols}</svg>`;
}

function sentimentPie(s: ReportSummary['sentiment']): string {
  const total = s.positive + s.neutral + s.negative;
  if (total === 0) return '<p class="empty">Nothing classified yet.</p>';
  let acc = 0;
  const r = 60;
  const arcs = (['positive', 'neutral', 'negative'] as const)
    .filter((k) => s[k] > 0)
    .map((k) => {
      const frac = s[k] / total;
      if (frac === 1) return `<circle cx="70" cy="70" r="${r}" fill="${COLORS[k]}"/>`;
      const a0 = acc * 2 * Math.PI;
      acc += frac;
      const a1 = acc * 2 * Math.PI;
      const p = (a: number) => `${(70 + r * Math.sin(a)).toFixed(2)} ${(70 - r * Math.cos(a)).toFixed(2)}`;
      return `<path d="M70 70 L${p(a0)} A${r} ${r} 0 ${frac > 0.5 ? 1 : 0} 1 ${p(a1)} Z" fill="${COLORS[k]}"/>`;
    })
    .join('');
  const legend = (['positive', 'neutral', 'negative'] as const)
    .map(
      (k, i) =>
        `<rect x="150" y="${30 + i * 24}" width="14" height="14" fill="${COLORS[k]}"/><text x="170" y="${42 + i * 24}">${k} ${s[k]}</text>`,
    )
    .join('');
  return `<svg role="img" aria-label="Sentiment distribution" viewBox="0 0 300 140" width="300" height="140">${arcs}${legend}</svg>`;
}

function rows(cells: string[][]): string {
  return cells.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
}

export function renderHtml(
  summary: ReportSummary,
  conversations: ReportConversation[],
  meta: { generatedAt: string; since: string | null; title?: string },
): string {
  const e = escapeHtml;
  const title = meta.title ?? 'Support report';
  const statusRows = Object.entries(summary.byChannel).map(([ch, s]) => [
    e(ch),
    String(s.OPEN),
    String(s.WAITING_ON_CUSTOMER),
    String(s.RESOLVED),
  ]);
  const rt = (
    label: string,
    v: {
      firstResponse: { median: number | null; p90: number | null; n: number };
      resolution: { median: number | null; p90: number | null };
    },
    n: number,
  ) => [
    e(label),
    formatDuration(v.firstResponse.median),
    formatDuration(v.firstResponse.p90),
    formatDuration(v.resolution.median),
    formatDuration(v.resolution.p90),
    String(n),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2329;background:#fff}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #dde2e7;padding-bottom:.3rem}
.meta{color:#5b6670}.grid{display:flex;flex-wrap:wrap;gap:2rem}.card{flex:1 1 300px}
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eceff2;vertical-align:top}
th{background:#f5f7f9}svg text{font-size:12px;fill:#1d2329}.small{font-size:10px}.empty{color:#8a949d}
.tag{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:.8rem;color:#fff}
.positive{background:${COLORS.positive}}.neutral{background:${COLORS.neutral}}.negative{background:${COLORS.negative}}
</style>
</head>
<body>
<h1>${e(title)}</h1>
<p class="meta">Generated ${e(meta.generatedAt)}${meta.since ? ` · conversations since ${e(meta.since)}` : ''} · times in ${e(summary.timezone)} · ${summary.total} conversations</p>

<h2 id="channels">Conversations by channel and status</h2>
<table><thead><tr><th>Channel</th><th>Open</th><th>Waiting on customer</th><th>Resolved</th></tr></thead><tbody>${rows(statusRows)}</tbody></table>

<h2 id="sentiment">Sentiment</h2>
<div class="grid"><div class="card">${sentimentPie(summary.sentiment)}</div><div class="card">${sentimentDays(summary.sentimentByDay)}</div></div>

<h2 id="intents">Intents</h2>
${hbars(
  summary.intents.map((i) => ({ label: i.label, value: i.count })),
  'Intents ranked',
)}

<h2 id="keywords">Top keywords</h2>
${hbars(
  summary.keywords.slice(0, 12).map((k) => ({ label: k.keyword, value: k.count })),
  'Top keywords',
)}

<h2 id="response-times">Response times</h2>
<table><thead><tr><th></th><th>First response (median)</th><th>First response (p90)</th><th>Resolution (median)</th><th>Resolution (p90)</th><th>Conversations</th></tr></thead>
<tbody>${rows([
    ...Object.entries(summary.responseByChannel).map(([k, v]) => rt(`channel: ${k}`, v, v.firstResponse.n)),
    ...Object.entries(summary.responseByAgent).map(([k, v]) => rt(`agent: ${k}`, v, v.conversations)),
  ])}</tbody></table>

<h2 id="unanswered">Unanswered conversations</h2>
${summary.unanswered.length === 0 ? '<p class="empty">None.</p>' : `<table><thead><tr><th>Customer</th><th>Channel</th><th>Waiting since</th></tr></thead><tbody>${rows(summary.unanswered.map((u) => [e(u.customer), e(u.channel), e(u.waitingSince)]))}</tbody></table>`}

<h2 id="negative">Customers with the most negative recent conversations</h2>
${summary.mostNegative.length === 0 ? '<p class="empty">None.</p>' : `<table><thead><tr><th>Customer</th><th>Channel</th><th>Mean sentiment</th><th>Conversations</th><th>Intent</th></tr></thead><tbody>${rows(summary.mostNegative.map((n) => [e(n.customer), e(n.channel), n.meanScore.toFixed(2), String(n.conversations), e(n.worstIntent ?? '–')]))}</tbody></table>`}

<h2 id="conversations">Conversations</h2>
<table><thead><tr><th>Started</th><th>Channel</th><th>Customer</th><th>Status</th><th>Sentiment</th><th>Intent</th><th>First response</th><th>Keywords</th></tr></thead>
<tbody>${rows(
    conversations.map((c) => [
      e(c.started_at.slice(0, 16).replace('T', ' ')),
      e(c.channel),
      e(customerLabel(c.customer)),
      e(c.status),
      c.sentiment
        ? `<span class="tag ${c.sentiment.label}">${c.sentiment.label}</span> ${c.sentiment.score.toFixed(2)}`
        : '–',
      e(c.intent?.label ?? '–'),
      formatDuration(c.first_response_seconds),
      e((c.keywords ?? []).slice(0, 5).join(', ')),
    ]),
  )}</tbody></table>
</body>
</html>
`;
}
