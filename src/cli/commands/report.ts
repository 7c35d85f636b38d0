/** `report`: the analyst report of the conversations (JSON contract of issue 5 §8; text and HTML renderings). */
import { parseDuration } from '../../config/index.ts';
import { CHANNELS, type Channel } from '../../db/schema/history.ts';
import { conversationReport } from '../../report/conversations.ts';
import { renderHtml } from '../../report/render-html.ts';
import { renderText } from '../../report/render-text.ts';
import { summarize } from '../../report/summary.ts';
import { type Command, EXIT } from '../command.ts';
import { createRuntime } from '../runtime.ts';

const FORMATS = ['json', 'text', 'html'] as const;

export const reportCommand: Command = {
  name: 'report',
  summary: 'print the conversation report (JSON for tools, text or HTML for people)',
  usage: 'report [--since 7d] [--channel whatsapp|wazo|matrix] [--format json|text|html]',
  description: `
Reads the database only (run sync, and classify for sentiment/intent, first). --format json prints
{"generated_at", "conversations": [...]}, one object per conversation segment with its customer, metrics and,
once classified, sentiment, intent, keywords and language (null before). --since keeps conversations with a
message in that period (a duration such as 7d or 12h, or an ISO date). The report goes to standard output.`,
  options: { since: { type: 'string' }, channel: { type: 'string' }, format: { type: 'string', default: 'text' } },
  optionHelp: {
    since: 'only conversations active in this period: a duration (7d, 12h) or an ISO date',
    channel: 'only this channel: whatsapp, wazo or matrix',
    format: 'json, text (default) or html',
  },
  sections: ['database', 'report', 'twenty'],
  async run({ values, configPath, io }) {
    const format = String(values.format ?? 'text');
    if (!(FORMATS as readonly string[]).includes(format)) {
      io.err(`report: --format must be one of ${FORMATS.join(', ')}, got "${format}"\n`);
      return EXIT.usage;
    }
    const channel = values.channel as string | undefined;
    if (channel !== undefined && !(CHANNELS as readonly string[]).includes(channel)) {
      io.err(`report: --channel must be one of ${CHANNELS.join(', ')}, got "${channel}"\n`);
      return EXIT.usage;
    }
    const now = Date.now();
    let since: number | undefined;
    if (values.since !== undefined) {
      const raw = String(values.since);
      const d = parseDuration(raw);
      const date = Date.parse(raw);
      if (d !== undefined) since = now - d;
      else if (!Number.isNaN(date)) since = date;
      else {
        io.err(`report: --since expects a duration such as 7d or an ISO date, got "${raw}"\n`);
        return EXIT.usage;
      }
    }
    const rt = createRuntime(configPath, this.sections, io);
    try {
      const report = conversationReport(rt.database().sqlite, { since, channel: channel as Channel | undefined }, now);
      if (format === 'json') {
        io.out(`${JSON.stringify(report, null, 2)}\n`);
        return EXIT.ok;
      }
      const summary = summarize(report.conversations, {
        timezone: rt.config.report.timezone,
        now,
        unansweredAfterMs: parseDuration(rt.config.twenty.unanswered_after) ?? 4 * 3_600_000,
      });
      const meta = {
        generatedAt: report.generated_at,
        since: since === undefined ? null : new Date(since).toISOString(),
      };
      io.out(
        format === 'html'
          ? renderHtml(summary, report.conversations, meta)
          : `${renderText(summary, report.conversations, meta)}\n`,
      );
      return EXIT.ok;
    } finally {
      rt.close();
    }
  },
};
