/** What the demo prints: the classified conversations, what landed in Twenty, and where the report is. */
import { customerLabel, formatDuration, type ReportConversation, textTable } from '../../report/index.ts';
import type { FakeTwenty } from '../../testing/fake-twenty/index.ts';

const CHANNEL = { whatsapp: 'WhatsApp', wazo: 'Wazo', matrix: 'Matrix' } as const;

export function conversationsTable(list: ReportConversation[]): string {
  return textTable([
    ['channel', 'customer', 'sentiment', 'intent', 'first response', 'resolution', 'status', 'keywords'],
    ...list.map((c) => [
      CHANNEL[c.channel],
      customerLabel(c.customer),
      c.sentiment
        ? `${c.sentiment.label} (${c.sentiment.score >= 0 ? '+' : ''}${c.sentiment.score.toFixed(2)})`
        : 'not classified',
      c.intent?.label ?? '–',
      formatDuration(c.first_response_seconds),
      formatDuration(c.resolution_seconds),
      c.status,
      (c.keywords ?? []).slice(0, 4).join(', '),
    ]),
  ]);
}

type Row = Record<string, unknown>;
const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));

export function twentyTables(twenty: FakeTwenty): string {
  const people = twenty.rows('person');
  const conversations = twenty.rows('conversation');
  const tasks = twenty.rows('task');
  const name = (p: Row) => {
    const n = (p.name ?? {}) as { firstName?: string; lastName?: string };
    return `${n.firstName ?? ''} ${n.lastName ?? ''}`.trim();
  };
  const byId = new Map(people.map((p) => [p.id as string, p]));
  const out: string[] = [];
  out.push(`People (${people.length})`);
  out.push(
    textTable([
      ['name', 'phone', 'e-mail', 'conversations'],
      ...people.map((p) => {
        const phones = (p.phones ?? {}) as { primaryPhoneCallingCode?: string; primaryPhoneNumber?: string };
        const emails = (p.emails ?? {}) as { primaryEmail?: string };
        return [
          name(p),
          phones.primaryPhoneNumber
            ? `${phones.primaryPhoneCallingCode ?? ''} ${phones.primaryPhoneNumber}`.trim()
            : '',
          str(emails.primaryEmail),
          String(conversations.filter((c) => c.personId === p.id).length),
        ];
      }),
    ]),
  );
  out.push('', `Conversations (${conversations.length})`);
  out.push(
    textTable([
      ['person', 'channel', 'sentiment', 'intent', 'status', 'messages'],
      ...conversations.map((c) => [
        name(byId.get(c.personId as string) ?? {}),
        str(c.channel),
        str(c.sentiment),
        str(c.intent),
        str(c.status),
        str(c.messageCount),
      ]),
    ]),
  );
  out.push('', `Tasks (${tasks.length})`);
  out.push(
    textTable([
      ['title', 'status', 'due'],
      ...tasks.map((t) => [str(t.title), str(t.status), str(t.dueAt).slice(0, 16)]),
    ]),
  );
  return out.join('\n');
}
