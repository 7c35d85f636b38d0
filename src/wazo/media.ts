/**
 * `[bridge] media = true`: a Wazo message that is only a link to an image or a file (chatd has no attachments,
 * so Wazo clients share files as URLs) is re-uploaded to the Matrix media repository and shown as `m.image` /
 * `m.file`. Detection is pure; the download is a separate, bounded step, guarded against requests into the
 * private network, that verifies TLS certificates except the Wazo server's when `[wazo] verify_tls = false`.
 */
import { lookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
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

export interface DownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Hosts (`host[:port]`) that may be on a private network: the Wazo server and `[bridge] media_hosts`. */
  allowedHosts?: readonly string[];
  /**
   * Hosts (`host[:port]`) whose TLS certificate is not verified: the Wazo server when `[wazo] verify_tls = false`
   * (self-signed lab certificates). Every other host's certificate is verified.
   */
  unverifiedTlsHosts?: readonly string[];
}

type Resolve = (hostname: string, callback: (err: Error | null, addresses: LookupAddress[]) => void) => void;
const systemResolve: Resolve = (hostname, callback) =>
  lookup(hostname, { all: true }, (err, addresses) => callback(err, addresses ?? []));

/**
 * The DNS lookup of a media download: resolves as usual, then refuses the name when any of its addresses is
 * private (unless `privateOk`). Used as the connection's own lookup, so the address checked is the address
 * connected to (no second resolution a DNS rebinding could change).
 */
export function guardedLookup(privateOk: boolean, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (err, all) => {
      if (err) return callback(err, '', 0);
      const family = options.family === 4 || options.family === 6 ? options.family : undefined;
      const addresses = family ? all.filter((a) => a.family === family) : all;
      if (addresses.length === 0) {
        const e = Object.assign(new Error(`${hostname} has no usable address`), { code: 'ENOTFOUND' });
        return callback(e, '', 0);
      }
      if (!privateOk && all.some((a) => isPrivateAddress(a.address))) {
        const e = Object.assign(new Error(`${hostname} resolves to a private address`), { code: 'EACCES' });
        return callback(e, '', 0);
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * Downloads at most `maxBytes` within `timeoutMs`; undefined (the link stays a link) on any problem.
 * A Wazo user chooses the URL, so the bridge must not become a way into its own network: hosts that resolve
 * to a private address are refused unless listed in `allowedHosts` (the Wazo server itself), the check is made
 * on the address actually connected to, and redirects are not followed.
 */
export async function downloadMedia(
  url: string,
  opts: DownloadOptions,
): Promise<{ bytes: Uint8Array; mime: string | undefined } | undefined> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not a URL: the message keeps its text.
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const privateOk = opts.allowedHosts?.includes(u.host) ?? false;
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  // An IP literal is connected to without a lookup: check it here.
  if (isIP(literal) && !privateOk && isPrivateAddress(literal)) return undefined;
  const secure = u.protocol === 'https:';
  let res: IncomingMessage;
  try {
    res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (secure ? https : http).request(
        u,
        {
          method: 'GET',
          agent: false,
          lookup: guardedLookup(privateOk),
          signal: AbortSignal.timeout(opts.timeoutMs),
          ...(secure ? { rejectUnauthorized: !(opts.unverifiedTlsHosts?.includes(u.host) ?? false) } : {}),
        },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
  } catch {
    // Refused address, unreachable, TLS refused or too slow: the message keeps its link.
    return undefined;
  }
  const status = res.statusCode ?? 0;
  const declared = Number(res.headers['content-length'] ?? '0');
  // Redirects (3xx) are not followed: a public URL could point into the private network.
  if (status < 200 || status >= 300 || declared > opts.maxBytes) {
    res.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > opts.maxBytes) {
        res.destroy();
        return undefined;
      }
      chunks.push(chunk);
    }
  } catch {
    // Interrupted transfer (timeout, reset): the message keeps its link.
    return undefined;
  }
  return { bytes: Buffer.concat(chunks), mime: res.headers['content-type']?.split(';')[0]?.trim() || undefined };
}
