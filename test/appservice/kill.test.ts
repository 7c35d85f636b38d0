import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import { newTokens, registrationFor } from './harness.ts';

const COUNT = 150;
const CHILD = new URL('./child-bridge.ts', import.meta.url).pathname;

function run(args: string[]): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (code) process.stderr.write(err);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

describe('kill -9 during delivery', () => {
  it('delivers every message exactly once, in order, after a SIGKILL and a restart', async () => {
    const hs = await new FakeHomeserver().start();
    const tokens = newTokens();
    hs.registerAppservice(registrationFor(tokens, null));
    const db = join(mkdtempSync(join(tmpdir(), 'mcb-kill-')), 'bridge.db');
    const args = [hs.url, tokens.as_token, tokens.hs_token, db, String(COUNT)];
    const delivered = () =>
      [...hs.model.rooms.values()].flatMap((r) =>
        r.events
          .filter((e) => e.type === 'm.room.message' && e.sender.startsWith('@tn_'))
          .map((e) => String(e.content.body)),
      );

    const first = run(args);
    // Kill once delivery is well under way (polling the fake's state, not a timer on behaviour).
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (delivered().length >= 20) {
          clearInterval(poll);
          resolve();
        }
      }, 1);
      void first.exited.then(() => {
        clearInterval(poll);
        reject(new Error('child ended before it could be killed'));
      });
    });
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, null);
    const atKill = delivered().length;
    assert.ok(atKill < COUNT, `killed mid-delivery (${atKill}/${COUNT})`);

    const second = run(args);
    assert.equal(await second.exited, 0);
    assert.ok(second.lines.includes('idle'));
    const got = delivered();
    assert.deepEqual(
      got,
      Array.from({ length: COUNT }, (_, i) => `msg ${i}`),
      'each message exactly once, in order',
    );
    await hs.stop();
  });
});
