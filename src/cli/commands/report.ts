/** `report`: the analyst report of the conversations (JSON contract of issue 5 §8; text and HTML renderings). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration } from '../../config/index.ts';
import { CHANNELS, type Channel } from '../../db/schema/history.ts';
import { buildReport, parseSince, REPORT_FORMATS, type ReportFormat } from '../../report/index.ts';
import { type Command, EXIT } from '../command.ts';
import { createRuntime } from '../runtime.ts';

export const reportCommand: Command = {
  name: 'report',
  summary: 'print the conversation report (JSON for tools, text or HTML for people)',
  usage: 'report [--since 7d] [--channel whatsapp|wazo|matrix] [--format json|text|html] [-o FILE]',
  description: `
Reads the database only (run sync, and classify for sentiment/intent, first). --format json prints
{"generated_at", "conversations": [...]}, one object per conversation segment with its customer, metrics and,
once classified, sentiment, intent, keywords and language (null before). text and html add the summary a
support lead reads: conversations by channel and status, sentiment and its trend per day, intents ranked, top
keywords, first-response and resolution times (median, p90) per channel and agent, unanswered conversations
and the customers with the most negative recent conversations, with days in [report] timezone. The HTML page
is self-contained (inline SVG charts, no script). --since keeps conversations with a message in that period
(a duration such as 7d or 12h, or an ISO date). Output goes to standard output, or to -o FILE.`,
  options: {
    since: { type: 'string' },
    channel: { type: 'string' },
    format: { type: 'string', default: 'text' },
    output: { type: 'string', short: 'o' },
  },
  optionHelp: {
    since: 'only conversations active in this period: a duration (7d, 12h) or an ISO date',
    channel: 'only this channel: whatsapp, wazo or matrix',
    format: 'json, text (default) or html',
    output: 'write the report to this file instead of standard output',
  },
  sections: ['database', 'report', 'twenty'],
  async run({ values, configPath, io }) {
    const format = String(values.format ?? 'text');
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
      io.err(`report: --format must be one of ${REPORT_FORMATS.join(', ')}, got "${format}"\n`);
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
      since = parseSince(String(values.since), now, parseDuration);
      if (since === undefined) {
        io.err(`report: --since expects a duration such as 7d or an ISO date, got "${values.since}"\n`);
        return EXIT.usage;
      }
    }
    const rt = createRuntime(configPath, this.sections, io);
    try {
      const { body } = buildReport(rt.database().sqlite, {
        format: format as ReportFormat,
        since,
        channel: channel as Channel | undefined,
        timezone: rt.config.report.timezone,
        unansweredAfterMs: parseDuration(rt.config.twenty.unanswered_after) ?? 4 * 3_600_000,
        now,
      });
      if (typeof values.output === 'string') {
        const path = resolve(values.output);
        writeFileSync(path, body);
        io.err(`report written to ${path}\n`);
      } else io.out(body);
      return EXIT.ok;
    } finally {
      rt.close();
    }
  },
};
