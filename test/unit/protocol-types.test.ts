// Type-level checks (`npm run typecheck` compiles this file): a query is answered only with its own
// kind's result. The runtime assertions keep node:test content; the point is what compiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answersKind, type RunRecord, type StoreAnswer, type StoreAnswers, type StoreQueryResults } from '../../src/protocol/engine.ts';
import type { QueryClient } from '../../src/extension/engine-process.ts';

test("a store answer carries its own kind's result type, never another's", () => {
  const runs: StoreAnswers['runs'] = { kind: 'runs', result: [] };
  // @ts-expect-error: a runs query is not answered with a compare result
  const wrong: StoreAnswers['runs'] = { kind: 'runs', result: { runs: [] } };
  // @ts-expect-error: an answer names the kind it answers
  const mislabelled: StoreAnswer = { kind: 'compare', result: [] };
  const answer: StoreAnswer = runs;
  if (answersKind('runs', answer)) {
    const records: RunRecord[] = answer.result;
    assert.deepEqual(records, []);
  }
  assert.equal(answersKind('dashboard', answer), false);
  assert.ok(wrong && mislabelled);
});

test('the query client returns the result type of the query asked, with no cast', () => {
  const runsOf: (client: QueryClient) => Promise<RunRecord[]> = (client) => client.query('db', { kind: 'runs' });
  const dashboardOf = (client: QueryClient) => client.query('db', { kind: 'dashboard', runId: 1 });
  const typed: (client: QueryClient) => Promise<StoreQueryResults['dashboard']> = dashboardOf;
  // @ts-expect-error: a dashboard query does not answer with runs
  const mistyped: (client: QueryClient) => Promise<RunRecord[]> = dashboardOf;
  assert.deepEqual([typeof runsOf, typeof typed, typeof mistyped], ['function', 'function', 'function']);
});
