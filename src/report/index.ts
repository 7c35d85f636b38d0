/**
 * The support lead's report: read-only queries over the history and classification tables, rendered as
 * JSON (the contract of `report --format json`), text or a self-contained HTML page.
 */
import type Database from 'better-sqlite3';
import type { Channel } from '../db/schema/history.ts';
import { conversationReport, listConversations } from './conversations.ts';
import { renderHtml } from './render-html.ts';
import { renderText } from './render-text.ts';
import { summarize } from './summary.ts';

export {
  type ConversationQuery,
  type ConversationReport,
  conversationReport,
  listConversations,
} from './conversations.ts';
export { escapeHtml, renderHtml } from './render-html.ts';
export { renderText, textTable } from './render-text.ts';
export { customerLabel, formatDuration, type ReportConversation, type ReportSummary, summarize } from './summary.ts';

export const REPORT_FORMATS = ['json', 'text', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportRequest {
  format: ReportFormat;
  /** Epoch ms: only conversations with a message at or after it. */
  since?: number;
  channel?: Channel;
  /** IANA time zone of days in the summary (`[report] timezone`). */
  timezone: string;
  /** A conversation waiting on staff longer than this is "unanswered" (`[twenty] unanswered_after`). */
  unansweredAfterMs: number;
  now: number;
}

/** Renders the report; `contentType` suits an HTTP answer. */
export function buildReport(db: Database.Database, req: ReportRequest): { body: string; contentType: string } {
  const query = { since: req.since, channel: req.channel };
  if (req.format === 'json') {
    const report = conversationReport(db, query, req.now);
    return { body: `${JSON.stringify(report, null, 2)}\n`, contentType: 'application/json; charset=utf-8' };
  }
  const report = { generated_at: new Date(req.now).toISOString(), conversations: listConversations(db, query) };
  const summary = summarize(report.conversations, {
    timezone: req.timezone,
    now: req.now,
    unansweredAfterMs: req.unansweredAfterMs,
  });
  const meta = {
    generatedAt: report.generated_at,
    since: req.since === undefined ? null : new Date(req.since).toISOString(),
  };
  return req.format === 'html'
    ? { body: renderHtml(summary, report.conversations, meta), contentType: 'text/html; charset=utf-8' }
    : { body: `${renderText(summary, report.conversations, meta)}\n`, contentType: 'text/plain; charset=utf-8' };
}

/** Parses `--since` / `?since=`: a duration back from `now` (7d, 12h) or an ISO date. Undefined when invalid. */
export function parseSince(
  raw: string,
  now: number,
  parseDuration: (s: string) => number | undefined,
): number | undefined {
  const d = parseDuration(raw);
  if (d !== undefined) return now - d;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : date;
}
