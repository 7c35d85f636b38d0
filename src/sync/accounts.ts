/**
 * The Matrix accounts the sync job reads as (`[[sync.accounts]]`): a user with a token from an environment
 * variable or a file, or `appservice = true` = our bridge bot with the `as_token` of the registration file.
 * Tokens are registered with the logger's scrubber and never logged.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/index.ts';
import { ConfigError, NotConfiguredError } from '../errors.ts';
import { registerSecret } from '../log.ts';
import { readRegistration } from '../matrix/index.ts';

export interface SyncAccount {
  /** MXID the account reads as; also the `sync_cursors.account` key. */
  userId: string;
  accessToken: string;
  appservice: boolean;
}

export function resolveAccounts(
  config: Pick<Config, 'sync' | 'appservice' | 'homeserver'>,
  env: Record<string, string | undefined>,
): SyncAccount[] {
  if (config.sync.accounts.length === 0) {
    throw new NotConfiguredError(
      'sync',
      '[[sync.accounts]] is empty: add an account (user_id + access_token_env or access_token_file, or appservice = true) to config.toml',
    );
  }
  const out: SyncAccount[] = [];
  config.sync.accounts.forEach((a, i) => {
    const where = `sync.accounts[${i}]`;
    if (a.appservice) {
      const reg = readRegistration(config.appservice.registration);
      registerSecret(reg.as_token);
      out.push({
        userId: `@${reg.sender_localpart}:${config.homeserver.domain}`,
        accessToken: reg.as_token,
        appservice: true,
      });
      return;
    }
    let token: string | undefined;
    if (a.access_token_env) {
      token = env[a.access_token_env];
      if (!token)
        throw new ConfigError(
          `${where}.access_token_env`,
          `${where}: environment variable ${a.access_token_env} is not set (it should hold ${a.user_id}'s access token)`,
        );
    } else if (a.access_token_file) {
      try {
        token = readFileSync(a.access_token_file, 'utf8').trim();
      } catch (err) {
        throw new ConfigError(
          `${where}.access_token_file`,
          `${where}: cannot read ${a.access_token_file}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      if (!token) throw new ConfigError(`${where}.access_token_file`, `${where}: ${a.access_token_file} is empty`);
    }
    registerSecret(token!);
    out.push({ userId: a.user_id!, accessToken: token!, appservice: false });
  });
  return out;
}
