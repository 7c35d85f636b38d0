/**
 * `[bridge] media = true` against a lab Wazo with a self-signed certificate (test/fixtures/tls, test-only):
 * with `[wazo] verify_tls = false` files on the Wazo host are downloaded and re-uploaded into Matrix; with
 * `verify_tls = true`, and on every other host, the certificate is verified and the message keeps its link.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { after, afterEach, before, describe, it } from 'node:test';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import { parseChatEvent } from '../../src/wazo/schemas.ts';
import { WazoHttp } from '../../src/wazo/index.ts';
import { type BridgeUnderTest, newTokens, registrationFor, startBridge } from '../appservice/harness.ts';
import { login, type Setup, setup, until } from './helpers.ts';

const TLS = {
  key: readFileSync(new URL('../fixtures/tls/key.pem', import.meta.url)),
  cert: readFileSync(new URL('../fixtures/tls/cert.pem', import.meta.url)),
};
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex');

/** Another HTTPS file server with the same self-signed certificate (a host other than Wazo). */
async function otherFileServer(): Promise<{ host: string; hits: () => number; close(): void }> {
  let hits = 0;
  const server = createServer(TLS, (_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    hits: () => hits,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

describe('media from a Wazo with a self-signed certificate, end to end ([wazo] verify_tls = false)', () => {
  let s: Setup;
  let hs: FakeHomeserver;
  let b: BridgeUnderTest;
  let other: Awaited<ReturnType<typeof otherFileServer>>;

  before(async () => {
    other = await otherFileServer();
    s = await setup({
      wazoOpts: { tls: TLS },
      wazo: { verify_tls: false },
      bridge: { media: true, media_hosts: [other.host] },
    });
    assert.match(s.wazo.url, /^https:\/\/127\.0\.0\.1:/);
    s.wazo.serveFile('/files/cat.png', 'image/png', PNG);
    hs = await new FakeHomeserver().start();
    const tokens = newTokens();
    const reg = registrationFor(tokens, null);
    hs.registerAppservice(reg);
    b = await startBridge(hs, tokens, { connector: s.connector });
    reg.url = b.server.url;
  });
  after(async () => {
    await b.stop();
    await hs.stop();
    await s.wazo.close();
    other.close();
  });

  it('re-uploads a file of the Wazo host into Matrix, and keeps the link to another self-signed host', async () => {
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
    s.wazo.addUser({ username: 'bob', password: 'pw-b' });
    hs.model.addUser('alice');
    // Alice links her Wazo account (the connector's login flow, over TLS); the bridge stores the puppet.
    const record = await login(s, '@alice:localhost', 'alice', 'pw-a');
    b.bridge.store.puppetSave(
      {
        matrixUserId: record.matrixUser,
        remoteUserId: record.remoteUser,
        remoteName: record.remoteName,
        credentials: record.credentials,
      },
      'wazo',
      Date.now(),
    );
    await until(() => s.connector.streaming, 'websocket over TLS');
    // Bob writes from his Wazo app (a client that accepts the lab certificate too).
    const bob = new WazoHttp({ baseUrl: s.wazo.url, verifyTls: false });
    try {
      const auth = await bob.raw({
        method: 'POST',
        path: '/api/auth/0.1/token',
        basic: { username: 'bob', password: 'pw-b' },
        body: {},
      });
      const token = (auth.json as { data: { token: string } }).data.token;
      const room = await bob.raw({
        method: 'POST',
        path: '/api/chatd/1.0/users/me/rooms',
        token,
        body: { users: [{ uuid: alice.uuid }] },
      });
      const roomUuid = (room.json as { uuid: string }).uuid;
      const say = (content: string) =>
        bob.raw({
          method: 'POST',
          path: `/api/chatd/1.0/users/me/rooms/${roomUuid}/messages`,
          token,
          body: { content },
        });
      await say(`${s.wazo.url}/files/cat.png`);
      await say(`https://${other.host}/dog.png`);
      const messages = () => {
        const roomId = b.bridge.store.portalByRemote(roomUuid)?.matrixRoomId;
        return roomId ? hs.model.rooms.get(roomId)!.events.filter((e) => e.type === 'm.room.message') : [];
      };
      await until(() => messages().length === 2, 'two messages in Matrix');
      const [image, link] = messages();
      assert.equal(image!.content.msgtype, 'm.image');
      assert.equal(image!.content.body, 'cat.png');
      const mxc = String(image!.content.url);
      assert.match(mxc, /^mxc:\/\/localhost\//);
      const uploaded = hs.model.media.get(mxc.split('/').pop()!);
      assert.deepEqual(Buffer.from(uploaded!.bytes), PNG, 'the file’s bytes are in the Matrix media repository');
      assert.equal(link!.content.msgtype, 'm.text');
      assert.equal(link!.content.body, `https://${other.host}/dog.png`, 'another host’s certificate is verified');
      assert.equal(other.hits(), 0, 'no request reached the other host');
    } finally {
      bob.close();
    }
  });
});

describe('media from the Wazo host: verify_tls decides', () => {
  let s: Setup | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  /** Feeds one webhook message linking to the Wazo host's file; returns what the connector queued. */
  async function linkFromWazo(verifyTls: boolean) {
    s = await setup({
      events: 'webhook',
      reorder: 0,
      wazoOpts: { tls: TLS },
      wazo: { verify_tls: verifyTls, bridge_all_rooms: true },
      bridge: { media: true },
    });
    s.wazo.serveFile('/files/cat.png', 'image/png', PNG);
    await s.connector.start(s.host, s.controller.signal);
    const parsed = parseChatEvent({
      event: 'chatd_user_room_message_created',
      data: {
        uuid: '5e1d0000-0000-4000-8000-000000000001',
        content: `${s.wazo.url}/files/cat.png`,
        user_uuid: '5e1d0000-0000-4000-8000-000000000002',
        created_at: '2026-08-01T14:03:12.345678+00:00',
        room: { uuid: '5e1d0000-0000-4000-8000-000000000003' },
      },
    });
    assert.ok(parsed.ok);
    await s.connector.handleWebhookEvent(parsed.event);
    await until(() => s!.host.events.length === 1, 'the message queued');
    const ev = s.host.events[0]!;
    assert.equal(ev.kind, 'message');
    return ev.kind === 'message' ? ev.body : undefined;
  }

  it('verify_tls = false: the file is downloaded for re-upload', async () => {
    const body = await linkFromWazo(false);
    assert.equal(body?.media?.kind, 'image');
    assert.deepEqual(Buffer.from(body!.media!.bytes!), PNG);
  });

  it('verify_tls = true: the self-signed certificate is refused and the message keeps its link', async () => {
    const body = await linkFromWazo(true);
    assert.equal(body?.media, undefined);
    assert.match(body!.text, /^https:\/\/127\.0\.0\.1:\d+\/files\/cat\.png$/);
  });
});
