/**
 * The appservice registration file: generated from `[appservice]`/`[homeserver]` with fresh tokens, written
 * as block YAML (the homeserver admin installs the same file), and read back by `start`, which takes the
 * tokens only from it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

const namespace = z.object({ regex: z.string().min(1), exclusive: z.boolean() });

export const registrationSchema = z.object({
  id: z.string().min(1),
  url: z.string().nullable(),
  as_token: z.string().min(32),
  hs_token: z.string().min(32),
  sender_localpart: z.string().min(1),
  namespaces: z.object({
    users: z.array(namespace).default([]),
    aliases: z.array(namespace).default([]),
    rooms: z.array(namespace).default([]),
  }),
  rate_limited: z.boolean().optional(),
  protocols: z.array(z.string()).optional(),
  receive_ephemeral: z.boolean().optional(),
  'de.sorunome.msc2409.push_ephemeral': z.boolean().optional(),
});

export type Registration = z.output<typeof registrationSchema>;

export interface RegistrationSettings {
  id: string;
  url: string;
  botLocalpart: string;
  ghostPrefix: string;
  domain: string;
  /** Protocol id listed in `protocols` (e.g. `wazo`). */
  protocol?: string;
}

/**
 * The second registration used for double puppeting (as mautrix bridges do): no URL (the homeserver pushes
 * nothing to it), a non-exclusive namespace over every local user, so that its as_token can act as the real
 * Matrix users who linked their remote account. Install it on the homeserver next to the main one.
 */
export function buildDoublePuppetRegistration(
  s: { id: string; domain: string },
  previous?: Registration,
): Registration {
  return {
    id: `${s.id}-double-puppet`,
    url: null,
    as_token: previous?.as_token ?? newToken(),
    hs_token: previous?.hs_token ?? newToken(),
    // Random, like mautrix's: nobody logs in as it; kept when the file is regenerated.
    sender_localpart: previous?.sender_localpart ?? `double-puppet-${newToken().slice(0, 16)}`,
    namespaces: { users: [{ regex: `^@.*:${escapeRegex(s.domain)}$`, exclusive: false }], aliases: [], rooms: [] },
    rate_limited: false,
  };
}

/** Escapes a string for use inside a POSIX/JS regular expression. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A fresh 64-hex-char token from the OS CSPRNG. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Builds a registration; pass `tokens` to keep existing ones (regeneration without `--force`). */
export function buildRegistration(
  s: RegistrationSettings,
  tokens?: { as_token: string; hs_token: string },
): Registration {
  const domain = escapeRegex(s.domain);
  return {
    id: s.id,
    url: s.url,
    as_token: tokens?.as_token ?? newToken(),
    hs_token: tokens?.hs_token ?? newToken(),
    sender_localpart: s.botLocalpart,
    namespaces: {
      users: [
        { regex: `^@${escapeRegex(s.botLocalpart)}:${domain}$`, exclusive: true },
        { regex: `^@${escapeRegex(s.ghostPrefix)}.*:${domain}$`, exclusive: true },
      ],
      aliases: [{ regex: `^#${escapeRegex(s.ghostPrefix)}.*:${domain}$`, exclusive: true }],
      rooms: [],
    },
    rate_limited: false,
    ...(s.protocol ? { protocols: [s.protocol] } : {}),
    receive_ephemeral: true,
    'de.sorunome.msc2409.push_ephemeral': true,
  };
}

/** Block-style YAML (never flow style), as homeserver admins expect to read it. */
export function registrationToYaml(reg: Registration): string {
  return stringify(reg, { collectionStyle: 'block', lineWidth: 0 });
}

/** Reads and validates a registration file. Missing → a ConfigError telling to run generate-registration. */
export function readRegistration(path: string): Registration {
  if (!existsSync(path)) {
    throw new ConfigError(
      'appservice.registration',
      `appservice registration file ${path} does not exist: run \`matrix-crm-bridge generate-registration\` and install it on the homeserver`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'appservice.registration',
      `cannot read appservice registration file ${path}: ${(err as Error).message} (the bridge's user must be able to read it)`,
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError('appservice.registration', `${path} is not valid YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const res = registrationSchema.safeParse(raw);
  if (!res.success) {
    // Each problem names the file: the CLI prints the problems one per line.
    const problems = res.error.issues.map(
      (i) =>
        `${path} is not a valid registration (write it with generate-registration): ${i.path.join('.') || '(root)'}: ${i.message}`,
    );
    throw new ConfigError('appservice.registration', `${path} is not a valid registration: ${problems.join('; ')}`, {
      problems,
    });
  }
  return res.data;
}

/** Writes the file with owner-only permissions (it holds both tokens). */
export function writeRegistration(path: string, reg: Registration): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, registrationToYaml(reg), { mode: 0o600 });
}
