/**
 * `[bridge] media = true`: a Wazo message that is only a link to an image or a file (chatd has no attachments,
 * so Wazo clients share files as URLs) is re-uploaded to the Matrix media repository and shown as `m.image` /
 * `m.file`. Detection is pure; the download is a separate, bounded step.
 */
import type { NeutralMedia } from '../bridge/index.ts';

const KINDS: Record<string, { kind: NeutralMedia['kind']; mime: string }> = {
  png: { kind: 'image', mime: 'image/png' },
  jpg: { kind: 'image', mime: 'image/jpeg' },
  jpeg: { kind: 'image', mime: 'image/jpeg' },
  gif: { kind: 'image', mime: 'image/gif' },
  webp: { kind: 'image', mime: 'image/webp' },
  pdf: { kind: 'file', mime: 'application/pdf' },
  mp4: { kind: 'video', mime: 'video/mp4' },
  webm: { kind: 'video', mime: 'video/webm' },
  mp3: { kind: 'audio', mime: 'audio/mpeg' },
  ogg: { kind: 'audio', mime: 'audio/ogg' },
  txt: { kind: 'file', mime: 'text/plain' },
  csv: { kind: 'file', mime: 'text/csv' },
};

/** The media link a message consists of (alone, trimmed), or undefined. Pure. */
export function detectMediaUrl(
  content: string,
): { url: string; name: string; kind: NeutralMedia['kind']; mime: string } | undefined {
  const text = content.trim();
  if (!/^https?:\/\/\S+$/i.test(text)) return undefined;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    // Not a parseable URL: the message stays a text message with a link.
    return undefined;
  }
  const name = decodeURIComponent(u.pathname.split('/').pop() ?? '');
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  const k = ext ? KINDS[ext] : undefined;
  return k && name ? { url: text, name, kind: k.kind, mime: k.mime } : undefined;
}

/** Downloads at most `maxBytes` within `timeoutMs`; undefined (the link stays a link) on any problem. */
export async function downloadMedia(
  url: string,
  opts: { maxBytes: number; timeoutMs: number },
): Promise<{ bytes: Uint8Array; mime: string | undefined } | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'follow' });
  if (!res.ok || !res.body) return undefined;
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > opts.maxBytes) {
    await res.body.cancel();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > opts.maxBytes) return undefined;
    chunks.push(chunk);
  }
  return { bytes: Buffer.concat(chunks), mime: res.headers.get('content-type')?.split(';')[0] ?? undefined };
}
