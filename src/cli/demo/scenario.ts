/**
 * Loads and validates the demo scenario (scenario.yaml) and turns its local "HH:MM" times into epoch ms on
 * the scenario day (the day before `now`, in the scenario's time zone).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected "HH:MM"');

const scenarioSchema = z.strictObject({
  company: z.string().min(1),
  timezone: z.string().min(1),
  whatsapp_number: z.string().regex(/^\+\d{6,15}$/),
  agents: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z0-9._-]+$/),
        name: z.string().min(1),
        email: z.email(),
        wazo_login: z.string().optional(),
      }),
    )
    .min(1),
  customers: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z0-9._-]+$/),
        name: z.string().min(1),
        channel: z.enum(['whatsapp', 'wazo', 'both']),
        phone: z
          .string()
          .regex(/^\+\d{6,15}$/)
          .optional(),
        email: z.email().optional(),
        lang: z.enum(['en', 'fr']),
        show_number_only: z.boolean().optional(),
      }),
    )
    .min(1),
  conversations: z
    .array(
      z.strictObject({
        customer: z.string(),
        channel: z.enum(['whatsapp', 'wazo']),
        messages: z.array(z.strictObject({ at: time, from: z.string(), text: z.string().min(1) })).min(1),
      }),
    )
    .min(1),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioCustomer = Scenario['customers'][number];
export type ScenarioAgent = Scenario['agents'][number];

export const SCENARIO_FILE = new URL('./scenario.yaml', import.meta.url);

/** Reads and validates the scenario; cross-references (customers, agents, channels) are checked too. */
export function loadScenario(path: URL | string = SCENARIO_FILE): Scenario {
  const raw = parse(readFileSync(path, 'utf8')) as unknown;
  const s = scenarioSchema.parse(raw);
  const customers = new Map(s.customers.map((c) => [c.id, c]));
  const agents = new Set(s.agents.map((a) => a.id));
  s.conversations.forEach((conv, i) => {
    const c = customers.get(conv.customer);
    if (!c) throw new Error(`scenario conversations[${i}]: unknown customer "${conv.customer}"`);
    if (c.channel !== 'both' && c.channel !== conv.channel) {
      throw new Error(`scenario conversations[${i}]: ${c.id} is a ${c.channel} customer, not ${conv.channel}`);
    }
    if (conv.channel === 'whatsapp' && !c.phone) throw new Error(`scenario: WhatsApp customer ${c.id} needs a phone`);
    for (const m of conv.messages) {
      if (m.from !== 'customer' && !agents.has(m.from))
        throw new Error(`scenario conversations[${i}]: unknown sender "${m.from}"`);
    }
  });
  return s;
}

/** Offset (ms) of `timeZone` from UTC at instant `utcMs`. */
function tzOffset(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - utcMs;
}

/** The scenario day: the calendar day before `now` in `timeZone`, as `{ y, m, d }`. */
export function scenarioDay(now: number, timeZone: string): { y: number; m: number; d: number } {
  const local = new Date(now + tzOffset(now, timeZone) - 86_400_000);
  return { y: local.getUTCFullYear(), m: local.getUTCMonth() + 1, d: local.getUTCDate() };
}

/** Epoch ms of local `HH:MM` on `day` in `timeZone`. */
export function localTime(day: { y: number; m: number; d: number }, hhmm: string, timeZone: string): number {
  const [h, mi] = hhmm.split(':').map(Number);
  const guess = Date.UTC(day.y, day.m - 1, day.d, h, mi);
  const first = guess - tzOffset(guess, timeZone);
  return guess - tzOffset(first, timeZone);
}
