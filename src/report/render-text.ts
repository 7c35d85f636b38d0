/** Plain-text rendering of the report, for terminals and e-mail. */
import { customerLabel, formatDuration, type ReportConversation, type ReportSummary } from './summary.ts';

/** Rows as aligned columns; widths count code points, so accented names and emoji line up. */
export function textTable(rows: string[][]): string {
  const len = (t: string) => [...t].length;
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => len(r[i] ?? ''))));
  return rows
    .map((r) =>
      r
        .map((c, i) => c + ' '.repeat(widths[i] - len(c)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderText(
  summary: ReportSummary,
  conversations: ReportConversation[],
  meta: { generatedAt: string; since: string | null },
): string {
  const out: string[] = [];
  out.push(
    `Support report — generated ${meta.generatedAt}${meta.since ? `, conversations since ${meta.since}` : ''} (${summary.timezone})`,
  );
  out.push('', `Conversations: ${summary.total}`);
  out.push(
    textTable([
      ['channel', 'open', 'waiting on customer', 'resolved'],
      ...Object.entries(summary.byChannel).map(([ch, s]) => [
        ch,
        String(s.OPEN),
        String(s.WAITING_ON_CUSTOMER),
        String(s.RESOLVED),
      ]),
    ]),
  );
  const s = summary.sentiment;
  out.push(
    '',
    `Sentiment: ${s.positive} positive, ${s.neutral} neutral, ${s.negative} negative${s.unclassified ? `, ${s.unclassified} not classified yet` : ''}`,
  );
  if (summary.sentimentByDay.length > 0) {
    out.push(
      textTable([
        ['day', 'positive', 'neutral', 'negative', 'mean score'],
        ...summary.sentimentByDay.map((d) => [
          d.day,
          String(d.positive),
          String(d.neutral),
          String(d.negative),
          d.meanScore === null ? '–' : d.meanScore.toFixed(2),
        ]),
      ]),
    );
  }
  out.push('', `Intents: ${summary.intents.map((i) => `${i.label} ${i.count}`).join(', ') || '–'}`);
  out.push(`Top keywords: ${summary.keywords.map((k) => k.keyword).join(', ') || '–'}`);
  out.push('', 'Response times (median / p90)');
  out.push(
    textTable([
      ['', 'first response', 'resolution', 'conversations'],
      ...Object.entries(summary.responseByChannel).map(([k, v]) => [
        k,
        `${formatDuration(v.firstResponse.median)} / ${formatDuration(v.firstResponse.p90)}`,
        `${formatDuration(v.resolution.median)} / ${formatDuration(v.resolution.p90)}`,
        String(v.firstResponse.n),
      ]),
      ...Object.entries(summary.responseByAgent).map(([k, v]) => [
        k,
        `${formatDuration(v.firstResponse.median)} / ${formatDuration(v.firstResponse.p90)}`,
        `${formatDuration(v.resolution.median)} / ${formatDuration(v.resolution.p90)}`,
        String(v.conversations),
      ]),
    ]),
  );
  out.push('', `Unanswered: ${summary.unanswered.length}`);
  for (const u of summary.unanswered) out.push(`  ${u.customer} (${u.channel}) waiting since ${u.waitingSince}`);
  out.push('', 'Customers with the most negative recent conversations');
  for (const n of summary.mostNegative)
    out.push(
      `  ${n.customer} (${n.channel}): ${n.meanScore.toFixed(2)} over ${n.conversations}${n.worstIntent ? `, ${n.worstIntent}` : ''}`,
    );
  if (summary.mostNegative.length === 0) out.push('  none');
  out.push('', 'Conversations');
  out.push(
    textTable([
      ['started', 'channel', 'customer', 'status', 'sentiment', 'intent', 'first response', 'keywords'],
      ...conversations.map((c) => [
        c.started_at.slice(0, 16).replace('T', ' '),
        c.channel,
        customerLabel(c.customer),
        c.status,
        c.sentiment ? `${c.sentiment.label} ${c.sentiment.score.toFixed(2)}` : '–',
        c.intent?.label ?? '–',
        formatDuration(c.first_response_seconds),
        (c.keywords ?? []).slice(0, 4).join(', '),
      ]),
    ]),
  );
  return `${out.join('\n')}\n`;
}
