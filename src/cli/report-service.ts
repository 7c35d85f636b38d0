/** `GET /report` as a part of `start`: mounted when `MCB_HTTP_REPORT_TOKEN` (or its `_FILE`) is set. */
import { parseDuration } from '../config/index.ts';
import { CHANNELS, type Channel } from '../db/schema/history.ts';
import { BadRequestError } from '../errors.ts';
import { createReportApp } from '../http/report.ts';
import { buildReport, parseSince } from '../report/index.ts';
import type { Runtime } from './runtime.ts';
import type { Service } from './services.ts';

export function reportService(rt: Runtime, clock: () => number = Date.now): Service | undefined {
  const token = rt.config.http.report_token;
  if (!token) return undefined;
  const app = createReportApp({
    token,
    render: (q) => {
      const now = clock();
      const since = q.since === undefined ? undefined : parseSince(q.since, now, parseDuration);
      if (q.since !== undefined && since === undefined) {
        throw new BadRequestError(
          `since must be a duration such as 7d or an ISO date, got "${q.since}"`,
          'M_INVALID_PARAM',
        );
      }
      if (q.channel !== undefined && !(CHANNELS as readonly string[]).includes(q.channel)) {
        throw new BadRequestError(`channel must be one of ${CHANNELS.join(', ')}`, 'M_INVALID_PARAM');
      }
      return buildReport(rt.database().sqlite, {
        format: q.format,
        since,
        channel: q.channel as Channel | undefined,
        timezone: rt.config.report.timezone,
        unansweredAfterMs: parseDuration(rt.config.twenty.unanswered_after) ?? 4 * 3_600_000,
        now,
      });
    },
  });
  return {
    name: 'report',
    mounts: [{ path: '/', app }],
    async start() {
      // Nothing runs in the background: the report is rendered per request.
    },
    async stop() {
      // No connection of its own: the database is closed by the runtime.
    },
  };
}
