// How the engine and the workers reach the queue's Redis: one URL (a password and rediss:// TLS
// included), commands that wait through a Redis restart instead of failing, and a first contact that
// fails fast with the URL (its password hidden) when nothing answers.

import { Redis } from 'ioredis';
import { redactedQueueUrl } from '../../space/queue-url.ts';
import { EvaluatorUnavailable } from '../evaluators/evaluator.ts';

/** How long the first contact may take before the queue is reported unreachable. */
const FIRST_CONTACT_MS = 10_000;

/**
 * BullMQ's connection options for `url`. A command issued while Redis is down waits for the
 * reconnection (maxRetriesPerRequest: null), so that a restarted Redis costs time, not trials.
 */
export function queueConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/**
 * A plain client for what BullMQ does not do (verdicts and cancels). Its connection errors go to `log` once it
 * is connected (it reconnects by itself); before, `connectOrExplain` reports them.
 */
export function redisClient(url: string, log: (message: string) => void): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  let lastLogged = '';
  let connected = false;
  client.once('ready', () => (connected = true));
  client.on('error', (error: Error) => {
    // A Redis that is down repeats its error at every reconnection attempt: each different one is logged once.
    if (connected && error.message !== lastLogged) log(`redis: ${(lastLogged = error.message)}`);
  });
  return client;
}

/** Connects `client`, or throws an error naming the queue (its password hidden) and Redis's reason when it cannot. */
export async function connectOrExplain(client: Redis, url: string): Promise<void> {
  let lastError: Error | undefined;
  const keep = (error: Error) => (lastError = error);
  client.prependListener('error', keep);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${FIRST_CONTACT_MS / 1000} s`)), FIRST_CONTACT_MS);
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
  } catch (error) {
    client.disconnect();
    // Redis's own answer (a wrong password, a refused connection) says more than the closed connection that follows it.
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new EvaluatorUnavailable(`cannot reach the trial queue at ${redactedQueueUrl(url)}: ${reason}`);
  } finally {
    clearTimeout(timer);
    client.off('error', keep);
  }
}
