/**
 * Matrix → Wazo message text. Pure: the core's neutral message in, chatd `content` out. chatd only takes plain
 * text, so formatting becomes Markdown-ish text, emotes `* name text`, replies a quoted first line, edits a new
 * message `* corrected text`, reactions a short line (when enabled), media a link through the public media URL
 * (which the core builds from `[bridge] public_media_url`). Redactions cannot be expressed in chatd: the
 * connector does not implement RedactingPuppet, so the core only records them.
 */
import { htmlToText } from './html-to-text.ts';

/** The neutral message the core hands over (structurally the core's NeutralMessage). */
export interface NeutralIn {
  kind: 'text' | 'notice' | 'emote';
  text: string;
  html?: string;
  media?: { kind: string; name: string; url?: string; mxc?: string };
}

export interface ToWazoContext {
  /** Display name of the Matrix sender (emotes, reactions). */
  senderName: string;
  /** First line of the message replied to, when known. */
  replyQuote?: string;
  /** Who wrote the message replied to, when known. */
  replyAuthor?: string;
}

/** Matrix text (HTML preferred, converted to Markdown-ish) → chatd content; undefined when nothing to send. */
export function matrixToWazo(msg: NeutralIn, ctx: ToWazoContext): string | undefined {
  let text = msg.html !== undefined ? htmlToText(msg.html) : stripReplyFallback(msg.text);
  if (msg.media) {
    const link = msg.media.url ?? '';
    const label = link
      ? `${msg.media.name}: ${link}`
      : `[${msg.media.kind}] ${msg.media.name} (no public media URL configured)`;
    text = text.trim() && text.trim() !== msg.media.name ? `${text}\n${label}` : label;
  }
  if (text.trim() === '') return undefined;
  if (msg.kind === 'emote') text = `* ${ctx.senderName} ${text}`;
  if (ctx.replyQuote !== undefined) {
    const who = ctx.replyAuthor ? `${ctx.replyAuthor}: ` : '';
    text = `> ${who}${firstLine(ctx.replyQuote)}\n${text}`;
  }
  return text;
}

/** An edit: chatd has no edit, so the corrected text goes out as a new message `* corrected`. */
export function editToWazo(msg: NeutralIn, ctx: ToWazoContext): string | undefined {
  const text = matrixToWazo(msg, { senderName: ctx.senderName });
  return text === undefined ? undefined : `* ${text}`;
}

/** A reaction as a short text line (only when `[bridge] reactions` is on). */
export function reactionToWazo(senderName: string, key: string, targetText?: string): string {
  const target = targetText ? ` to "${firstLine(targetText, 60)}"` : '';
  return `${senderName} reacted ${key}${target}`;
}

/** Removes the legacy `> <@user> quoted` lines that replies carried in `body` before Matrix 1.13. */
export function stripReplyFallback(body: string): string {
  if (!body.startsWith('> ')) return body;
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i].startsWith('>')) i++;
  if (i < lines.length && lines[i] === '') i++;
  return lines.slice(i).join('\n');
}

function firstLine(s: string, max = 80): string {
  const line = (s.split('\n').find((l) => l.trim() !== '' && !l.startsWith('>')) ?? '').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
