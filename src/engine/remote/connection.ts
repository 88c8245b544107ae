// How the engine and the workers reach the queue's Redis: one URL (a password and rediss:// TLS
// included), commands that wait through a Redis restart instead of failing, and a first contact that
// fails fast with the URL (its password hidden) when nothing answers.

import { Redis } from 'ioredis';
import { redactedQueueUrl } from '../../space/queue-url.ts';

/** How long the first contact may take before the queue is reported unreachable. */
const FIRST_CONTACT_MS = 10_000;

/**
 * BullMQ's connection options for `url`. A command issued while Redis is down waits for the
 * reconnection (maxRetriesPerRequest: null), so that a restarted Redis costs time, not trials.
 */
export function queueConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/** A plain client for what BullMQ does not do: verdicts and cancels. */
export function redisClient(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
}

/** Connects `client`, or throws an error naming the queue when Redis does not answer in time. */
export async function connectOrExplain(client: Redis, url: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${FIRST_CONTACT_MS / 1000} s`)), FIRST_CONTACT_MS);
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
  } catch (error) {
    client.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot reach the trial queue at ${redactedQueueUrl(url)}: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
}
