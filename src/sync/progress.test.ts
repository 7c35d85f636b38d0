import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { barProgress } from './progress.ts';

describe('sync progress bars', () => {
  it('draws one bar per room on a terminal, with the events read and the outcome', () => {
    let out = '';
    const tty = Object.assign(
      new Writable({
        write(chunk, _enc, done) {
          out += String(chunk);
          done();
        },
      }),
      {
        isTTY: true,
        columns: 120,
        rows: 40,
        cursorTo: () => true,
        moveCursor: () => true,
        clearLine: () => true,
        clearScreenDown: () => true,
      },
    );
    const p = barProgress(tty as unknown as NodeJS.WritableStream);
    p.start('!a:hs', '!a:hs');
    p.start('!b:hs', '!b:hs');
    p.update('!a:hs', 1200);
    p.finish('!a:hs', 'synced');
    p.finish('!b:hs', 'failed');
    p.stop();
    assert.match(out, /!a:hs .*\| 1200 events \| synced/);
    assert.match(out, /!b:hs .*\| 0 events \| failed/);
  });
});
