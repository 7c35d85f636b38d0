/**
 * The whole system end to end: the demo scenario through the real bridge and pipeline against the
 * simulators, checked on the final state of the fake Twenty and of the Matrix rooms; a second pipeline run
 * sends no mutation; a pipeline killed between stages (and inside one) completes with the same end state.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { CommandIo } from '../../src/cli/command.ts';
import { runClassify } from '../../src/nlp/index.ts';
import { runExport } from '../../src/crm/index.ts';
import { type DemoResult, runDemo } from '../../src/cli/demo/run.ts';
import { runSync } from '../../src/sync/index.ts';
import type { FakeTwenty } from '../../src/testing/fake-twenty/index.ts';

type Row = Record<string, unknown>;

function quietIo(): CommandIo & { output: () => string } {
  let out = '';
  return {
    out: (t) => {
      out += t;
    },
    err: () => {},
    stdin: new PassThrough(),
    env: {},
    interactive: false,
    output: () => out,
  };
}

const personName = (p: Row) => {
  const n = (p.name ?? {}) as { firstName?: string; lastName?: string };
  return `${n.firstName ?? ''} ${n.lastName ?? ''}`.trim();
};

/** A comparable digest of what Twenty holds. */
function twentyState(twenty: FakeTwenty) {
  const people = twenty.rows('person');
  const names = new Map(people.map((p) => [p.id as string, personName(p)]));
  return {
    people: people.map(personName).sort(),
    conversations: twenty
      .rows('conversation')
      .map(
        (c) =>
          `${c.conversationKey}|${names.get(c.personId as string)}|${c.channel}|${c.sentiment}|${c.intent}|${c.status}`,
      )
      .sort(),
    tasks: twenty
      .rows('task')
      .map((t) => `${t.title}|${t.status}`)
      .sort(),
  };
}

describe('demo end to end', () => {
  let demo: DemoResult;
  const io = quietIo();

  before(async () => {
    demo = await runDemo({ dir: mkdtempSync(join(tmpdir(), 'mcb-demo-')), io });
  });
  after(async () => {
    await demo?.stop();
  });

  it('prints the conversations, the Twenty records and the report path', () => {
    const out = io.output();
    assert.match(out, /Conversations of Fibrelink's day/);
    assert.match(out, /In Twenty now/);
    const firstHtml = /(\/\S+\.html)/.exec(out)?.[1];
    assert.equal(firstHtml, demo.reportPath);
    assert.match(out, new RegExp(`^Report: ${demo.reportPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
  });

  it('puts every customer in Twenty once, merging the one who wrote on both channels', () => {
    const people = demo.world.twenty.rows('person');
    const names = people.map(personName).sort();
    assert.equal(names.length, 13, names.join(', '));
    assert.equal(names.filter((n) => n === 'Grace Okafor').length, 1, 'Grace (WhatsApp + Wazo) is one person');
    const grace = people.find((p) => personName(p) === 'Grace Okafor')!;
    const graceConvs = demo.world.twenty.rows('conversation').filter((c) => c.personId === grace.id);
    assert.deepEqual(graceConvs.map((c) => c.channel).sort(), ['WAZO', 'WHATSAPP']);
    for (const staff of ['Alice Martin', 'Bruno Lefèvre', 'Chloé Dubois'])
      assert.ok(!names.includes(staff), `${staff} is staff`);
  });

  it('exports one conversation per scenario conversation with the expected labels', () => {
    const people = new Map(demo.world.twenty.rows('person').map((p) => [p.id as string, personName(p)]));
    const convs = demo.world.twenty.rows('conversation');
    assert.equal(convs.length, 14, 'one per scenario conversation; the bot management room is not a conversation');
    assert.ok(!convs.some((c) => c.channel === 'MATRIX'));
    const of = (name: string, channel: string) =>
      convs.find((c) => people.get(c.personId as string) === name && c.channel === channel);
    assert.equal(of('Julien Petit', 'WHATSAPP')?.intent, 'CANCELLATION');
    assert.equal(of('Priya Shah', 'WHATSAPP')?.intent, 'PURCHASE');
    assert.equal(of('Claire Moreau', 'WHATSAPP')?.intent, 'BILLING');
    assert.equal(of('Nadia Haddad', 'WAZO')?.intent, 'PRAISE');
    assert.ok(['COMPLAINT', 'CANCELLATION'].includes(String(of('Oliver Grant', 'WAZO')?.intent)));
    assert.equal(of('Sophie Girard', 'WAZO')?.sentiment, 'NEGATIVE');
    assert.equal(of('Oliver Grant', 'WAZO')?.sentiment, 'NEGATIVE');
    assert.equal(of('Nadia Haddad', 'WAZO')?.sentiment, 'POSITIVE');
    assert.equal(of('Priya Shah', 'WHATSAPP')?.sentiment, 'POSITIVE');
  });

  it('creates follow-up tasks for the angry and the unanswered customers', () => {
    const titles = demo.world.twenty.rows('task').map((t) => String(t.title));
    for (const who of ['Sophie Girard', 'Oliver Grant'])
      assert.ok(
        titles.some((t) => t.includes(who)),
        `task for ${who}`,
      );
    // Lucas shows only his number on WhatsApp and nobody answered him.
    assert.ok(
      titles.some((t) => t.includes('+33612345603') || t.includes('Lucas')),
      'task for the unanswered customer',
    );
    assert.ok(!titles.some((t) => t.includes('Nadia Haddad')), 'no task for a happy, answered customer');
  });

  it('relayed the Wazo conversations both ways without duplicates', () => {
    const { hs, wazo } = demo.world;
    const agentAnswers = wazo.state.messages.filter(
      (m) => /^(Hi|Bonjour|Sorry|Thank you)/.test(m.content) && !m.content.includes('Grace again'),
    );
    assert.ok(agentAnswers.length >= 6, `agents' answers reached Wazo (${agentAnswers.length})`);
    for (const room of hs.model.rooms.values()) {
      const bodies = room.events.filter((e) => e.type === 'm.room.message').map((e) => `${e.sender}|${e.content.body}`);
      assert.equal(new Set(bodies).size, bodies.length, `duplicate message in ${room.id}`);
    }
    const ghostMessages = [...hs.model.rooms.values()].flatMap((r) =>
      r.events.filter((e) => e.type === 'm.room.message' && e.sender.startsWith('@wazo_')),
    );
    assert.equal(ghostMessages.length, 13, 'every Wazo customer message reached Matrix once');
  });

  it('sends no mutation to Twenty when the pipeline runs again with nothing new', async () => {
    const rt = demo.runtime;
    const before = demo.world.twenty.mutations().length;
    const beforeState = twentyState(demo.world.twenty);
    await runSync(rt.stage('sync'), { env: demo.world.env });
    await runClassify(rt.stage('classify'), { reclassify: false });
    const counts = await runExport(rt.stage('export'), { setup: false, dryRun: false });
    assert.equal(demo.world.twenty.mutations().length, before);
    assert.equal(counts.mutations, 0);
    assert.deepEqual(twentyState(demo.world.twenty), beforeState);
  });
});

describe('pipeline killed between and inside stages', () => {
  let reference: ReturnType<typeof twentyState>;
  let demo: DemoResult;

  before(async () => {
    const ref = await runDemo({
      dir: mkdtempSync(join(tmpdir(), 'mcb-demo-ref-')),
      io: quietIo(),
      now: Date.parse('2026-11-22T12:00:00Z'),
    });
    reference = twentyState(ref.world.twenty);
    await ref.stop();
    demo = await runDemo({
      dir: mkdtempSync(join(tmpdir(), 'mcb-demo-kill-')),
      io: quietIo(),
      now: Date.parse('2026-11-22T12:00:00Z'),
      pipeline: false,
    });
  });
  after(async () => {
    await demo?.stop();
  });

  const cli = (args: string[], killAfterMs?: number) =>
    new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['src/cli/main.ts', ...args, '--config', demo.world.configPath], {
        env: { ...process.env, ...demo.world.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.on('error', reject);
      child.on('exit', (code, signal) =>
        signal === 'SIGKILL'
          ? resolve(null)
          : code === 0
            ? resolve(0)
            : reject(new Error(`${args[0]} exited ${code}: ${stderr}`)),
      );
    });

  it('completes with the same end state after kill -9 at any point', async () => {
    demo.runtime.close();
    await cli(['sync'], 150);
    await cli(['sync']);
    await cli(['classify'], 100);
    await cli(['classify']);
    await cli(['export'], 200);
    await cli(['export']);
    await cli(['export']);
    const state = twentyState(demo.world.twenty);
    // Conversation keys embed room IDs, which differ between the two worlds: compare everything else.
    const strip = (s: string[]) => s.map((x) => x.split('|').slice(1).join('|')).sort();
    assert.deepEqual(state.people, reference.people);
    assert.deepEqual(strip(state.conversations), strip(reference.conversations));
    assert.deepEqual(state.tasks, reference.tasks);
  });
});
