/**
 * `[bridge] media = true`: a Wazo message that is only a link to an image or a file (chatd has no attachments,
 * so Wazo clients share files as URLs) is re-uploaded to the Matrix media repository and shown as `m.image` /
 * `m.file`. Detection is pure; the download is a separate, bounded step.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
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

/** True for loopback, private, link-local, CGNAT and other non-public addresses (IPv4 and IPv6). */
export function isPrivateAddress(ip: string): boolean {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(ip);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  const v6 = ip.toLowerCase();
  return v6 === '::' || v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6);
}

/**
 * Downloads at most `maxBytes` within `timeoutMs`; undefined (the link stays a link) on any problem.
 * A Wazo user chooses the URL, so the bridge must not become a way into its own network: hosts that resolve
 * to a private address are refused unless listed in `allowedHosts` (the Wazo server itself), and redirects
 * are not followed.
 */
export async function downloadMedia(
  url: string,
  opts: { maxBytes: number; timeoutMs: number; allowedHosts?: readonly string[] },
): Promise<{ bytes: Uint8Array; mime: string | undefined } | undefined> {
  const u = new URL(url);
  if (!opts.allowedHosts?.includes(u.host)) {
    const host = u.hostname.replace(/^\[|\]$/g, '');
    let addresses: { address: string }[];
    try {
      addresses = isIP(host) ? [{ address: host }] : await lookup(host, { all: true });
    } catch {
      // Unresolvable host: the message keeps its link.
      return undefined;
    }
    if (addresses.length === 0 || addresses.some((a) => isPrivateAddress(a.address))) return undefined;
  }
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'manual' });
  } catch {
    // Unreachable or too slow: the message keeps its link.
    return undefined;
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return undefined;
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > opts.maxBytes) {
    await res.body.cancel();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > opts.maxBytes) return undefined;
      chunks.push(chunk);
    }
  } catch {
    // Interrupted transfer (timeout, reset): the message keeps its link.
    return undefined;
  }
  return { bytes: Buffer.concat(chunks), mime: res.headers.get('content-type')?.split(';')[0] ?? undefined };
}
