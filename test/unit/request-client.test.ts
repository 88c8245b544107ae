// The host's one request/reply client: replies by id, failure of the requests in flight when the channel ends, a fresh channel next time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestClient, type ChannelEvents } from '../../src/extension/request-client.ts';

function echoChannels() {
  const opened: { events: ChannelEvents<string>; sent: [number, string][]; closed: boolean }[] = [];
  const client = new RequestClient<string, string>(async (events) => {
    const channel = { events, sent: [] as [number, string][], closed: false };
    opened.push(channel);
    return { send: (id, request) => channel.sent.push([id, request]), close: async () => void (channel.closed = true) };
  });
  return { client, opened };
}

test('replies settle their own requests, out of order, on one channel', async () => {
  const { client, opened } = echoChannels();
  const first = client.request('a');
  const second = client.request('b');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(opened.length, 1);
  const [[idA], [idB]] = opened[0].sent;
  opened[0].events.reply(idB, { error: new Error('no b') });
  opened[0].events.reply(idA, { value: 'A' });
  assert.equal(await first, 'A');
  await assert.rejects(second, /no b/);
});

test('a channel that ends fails its requests in flight, and the next request opens another', async () => {
  const { client, opened } = echoChannels();
  const lost = client.request('a');
  await new Promise((resolve) => setImmediate(resolve));
  opened[0].events.ended(new Error('the process exited'));
  await assert.rejects(lost, /the process exited/);
  const next = client.request('b');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(opened.length, 2);
  // A late end of the old channel leaves the new one alone.
  opened[0].events.ended(new Error('again'));
  opened[1].events.reply(opened[1].sent[0][0], { value: 'B' });
  assert.equal(await next, 'B');
  await client.dispose();
  assert.ok(opened[1].closed);
});

test('a channel that fails to open rejects the request and is tried again next time', async () => {
  let attempts = 0;
  const client = new RequestClient<string, string>(async () => {
    attempts++;
    throw new Error(`attempt ${attempts} failed`);
  });
  await assert.rejects(client.request('a'), /attempt 1 failed/);
  await assert.rejects(client.request('b'), /attempt 2 failed/);
});
