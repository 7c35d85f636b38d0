/**
 * Turns one Client-Server event into the row shapes the store writes. Pure: no I/O.
 * Reply fallbacks are stripped (spec ≥ 1.13 made them optional), edits read `m.new_content`, room v11
 * redactions read `content.redacts` and older ones the top-level `redacts`.
 */
import type { ClientEvent } from './room-info.ts';

export type Parsed =
  | {
      kind: 'message';
      msgtype: string | null;
      body: string | null;
      formattedBody: string | null;
      replyTo: string | null;
      threadRoot: string | null;
      redacted: boolean;
    }
  | { kind: 'encrypted'; replyTo: string | null; threadRoot: string | null }
  | { kind: 'edit'; target: string; body: string | null; formattedBody: string | null; msgtype: string | null }
  | { kind: 'reaction'; target: string; key: string | null }
  | { kind: 'redaction'; target: string }
  | { kind: 'member'; userId: string; membership: string; displayName: string | null; reason: string | null }
  | { kind: 'skip' };

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function stripReplyFallback(body: string): string {
  if (!body.startsWith('> ')) return body;
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('> ')) i++;
  if (i < lines.length && lines[i] === '') i++;
  return lines.slice(i).join('\n');
}

export function stripReplyHtml(html: string): string {
  return html.replace(/<mx-reply>[\s\S]*?<\/mx-reply>/g, '');
}

function relations(content: Record<string, unknown>): {
  relType: string | null;
  relTarget: string | null;
  replyTo: string | null;
  fallingBack: boolean;
} {
  const rel = obj(content['m.relates_to']);
  return {
    relType: str(rel?.rel_type),
    relTarget: str(rel?.event_id),
    replyTo: str(obj(rel?.['m.in_reply_to'])?.event_id),
    fallingBack: rel?.is_falling_back === true,
  };
}

export function parseEvent(ev: ClientEvent): Parsed {
  const c = ev.content;
  switch (ev.type) {
    // A sticker (spec "Sticker Messages"; how mautrix-whatsapp bridges WhatsApp stickers) is a message of its
    // own event type, without msgtype; its `body` describes the image.
    case 'm.sticker':
    case 'm.room.message': {
      const r = relations(c);
      if (ev.type === 'm.room.message' && r.relType === 'm.replace' && r.relTarget) {
        const n = obj(c['m.new_content']);
        // Spec "Validity of replacement events": an edit without `m.new_content` is invalid and ignored (it
        // must not blank the message it points at).
        if (!n) return { kind: 'skip' };
        return {
          kind: 'edit',
          target: r.relTarget,
          body: str(n?.body),
          formattedBody: str(n?.formatted_body),
          msgtype: str(n?.msgtype),
        };
      }
      const redacted = obj(ev.unsigned)?.redacted_because !== undefined || typeof c.body !== 'string';
      const isReply = r.replyTo !== null && !(r.relType === 'm.thread' && r.fallingBack);
      const body = str(c.body);
      const html = c.format === 'org.matrix.custom.html' ? str(c.formatted_body) : null;
      return {
        kind: 'message',
        msgtype: str(c.msgtype),
        body: redacted || body === null ? null : isReply ? stripReplyFallback(body) : body,
        formattedBody: redacted || html === null ? null : isReply ? stripReplyHtml(html) : html,
        replyTo: isReply ? r.replyTo : null,
        threadRoot: r.relType === 'm.thread' ? r.relTarget : null,
        redacted,
      };
    }
    case 'm.room.encrypted': {
      // Relation metadata stays in the clear: encrypted edits and reactions are not new messages.
      const r = relations(c);
      if (r.relType === 'm.replace' || r.relType === 'm.annotation') return { kind: 'skip' };
      return {
        kind: 'encrypted',
        replyTo: r.relType === 'm.thread' && r.fallingBack ? null : r.replyTo,
        threadRoot: r.relType === 'm.thread' ? r.relTarget : null,
      };
    }
    case 'm.reaction': {
      const r = relations(c);
      if (r.relType !== 'm.annotation' || !r.relTarget) return { kind: 'skip' };
      return { kind: 'reaction', target: r.relTarget, key: str(obj(c['m.relates_to'])?.key) };
    }
    case 'm.room.redaction': {
      const target = str(c.redacts) ?? ev.redacts ?? null;
      return target ? { kind: 'redaction', target } : { kind: 'skip' };
    }
    case 'm.room.member': {
      if (typeof ev.state_key !== 'string') return { kind: 'skip' };
      return {
        kind: 'member',
        userId: ev.state_key,
        membership: str(c.membership) ?? 'leave',
        displayName: str(c.displayname),
        reason: str(c.reason),
      };
    }
    default:
      return { kind: 'skip' };
  }
}
