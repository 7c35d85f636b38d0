/** Error bodies in the shape every Wazo daemon uses: `{message, error_id, details, timestamp, resource?}`. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export function wazoError(
  c: Context,
  status: ContentfulStatusCode,
  errorId: string,
  message: string,
  details: Record<string, unknown> = {},
  resource?: string,
): Response {
  const body: Record<string, unknown> = { message, error_id: errorId, details, timestamp: Date.now() / 1000 };
  if (resource) body.resource = resource;
  return c.json(body, status);
}

export function invalid(c: Context, details: Record<string, unknown>): Response {
  return wazoError(c, 400, 'invalid-data', 'Sent data is invalid', details);
}

export function unauthorized(c: Context): Response {
  return wazoError(c, 401, 'unauthorized', 'Unauthorized', { reason: 'not_found_or_expired' });
}

/** Reads a JSON body the way chatd 26.02+ does (Content-Type not required); undefined when absent or malformed. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // Malformed JSON is reported by the caller as a 400, like a missing body.
    return undefined;
  }
}

export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
