import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/index.ts';
import {
  buildDoublePuppetRegistration,
  buildRegistration,
  readRegistration,
  writeRegistration,
} from '../../matrix/index.ts';
import { type Command, EXIT } from '../command.ts';

export const generateRegistrationCommand: Command = {
  name: 'generate-registration',
  summary: 'write the appservice registration file the homeserver needs (fresh tokens)',
  usage: 'generate-registration [-o FILE] [--force] [--double-puppet]',
  description: `
Writes a block-YAML appservice registration from [appservice] and [homeserver]: id, url, fresh random
as_token/hs_token (64 hex chars), the bot's sender_localpart, exclusive anchored user namespaces for the bot
and the ghosts, an exclusive alias namespace, rate_limited: false and ephemeral events. Install the same file
on the homeserver (Synapse: app_service_config_files) and restart it; \`start\` reads the tokens from it.
An existing file keeps its tokens (other fields are refreshed) unless --force is given.`,
  options: { output: { type: 'string', short: 'o' }, force: { type: 'boolean' }, 'double-puppet': { type: 'boolean' } },
  optionHelp: {
    output: 'where to write it (default: [appservice] registration, or [bridge.double_puppet] registration)',
    force: 'replace the tokens of an existing file',
    'double-puppet':
      'write the second, non-exclusive registration that lets the bridge post as the real Matrix users who linked their Wazo account',
  },
  sections: ['homeserver', 'appservice', 'bridge'],
  async run({ values, configPath, io }) {
    const config = loadConfig({
      path: configPath,
      env: io.env,
      sections: this.sections,
      onWarning: (m) => io.err(`warning: ${m}\n`),
    });
    if (values['double-puppet'] === true) {
      const target = typeof values.output === 'string' ? values.output : config.bridge.double_puppet.registration;
      if (!target) {
        io.err('generate-registration: --double-puppet needs -o FILE or [bridge.double_puppet] registration\n');
        return EXIT.usage;
      }
      const dpPath = resolve(target);
      const previous = existsSync(dpPath) && values.force !== true ? readRegistration(dpPath) : undefined;
      writeRegistration(
        dpPath,
        buildDoublePuppetRegistration({ id: config.appservice.id, domain: config.homeserver.domain }, previous),
      );
      io.err(
        `${previous ? 'kept' : 'wrote'} ${dpPath}: install it on the homeserver next to the main registration, then set [bridge.double_puppet] enabled = true\n`,
      );
      return EXIT.ok;
    }
    const path = resolve(typeof values.output === 'string' ? values.output : config.appservice.registration);
    const as = config.appservice;
    let tokens: { as_token: string; hs_token: string } | undefined;
    if (existsSync(path) && values.force !== true) {
      const old = readRegistration(path);
      tokens = { as_token: old.as_token, hs_token: old.hs_token };
    }
    const reg = buildRegistration(
      {
        id: as.id,
        url: as.url,
        botLocalpart: as.bot_localpart,
        ghostPrefix: as.ghost_prefix,
        domain: config.homeserver.domain,
      },
      tokens,
    );
    writeRegistration(path, reg);
    io.err(
      tokens
        ? `updated ${path} (tokens kept; pass --force to generate new ones)\n`
        : `wrote ${path} with new tokens: install it on the homeserver and restart the homeserver\n`,
    );
    return EXIT.ok;
  },
};
