import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAUSE_WAIT_MS, QuietTurns, type QuietMember } from '../../src/engine/evaluators/quiet-turns.ts';

/** A trainer that writes down what the turns told it. */
class Member implements QuietMember {
  readonly told: string[] = [];
  constructor(
    readonly name: string,
    public training: boolean,
  ) {}
  pause() {
    this.told.push('pause');
  }
  resume() {
    this.told.push('resume');
  }
  grant() {
    this.told.push('grant');
  }
}

function setUp(...members: Member[]) {
  return new QuietTurns(() => members);
}

test('a turn begins once every training neighbour stands still, and they resume when it ends', () => {
  const [a, b, c] = [new Member('a', true), new Member('b', true), new Member('c', false)];
  const turns = setUp(a, b, c);
  turns.want(a);
  assert.deepEqual([a.told, b.told, c.told], [[], ['pause'], []], 'only the trainer that trains is paused; the idle one is not');
  turns.standsStill(b);
  assert.deepEqual(a.told, ['grant']);
  turns.done(a);
  assert.deepEqual(b.told, ['pause', 'resume']);
});

test('one turn at a time: a trainer waiting for its turn trains nothing, so it is neither paused nor waited for', () => {
  const [a, b] = [new Member('a', true), new Member('b', true)];
  const turns = setUp(a, b);
  turns.want(a);
  turns.want(b);
  assert.deepEqual(a.told, ['grant'], "b's asking counts as standing still");
  assert.deepEqual(b.told, ['pause']);
  turns.done(a);
  assert.deepEqual(b.told, ['pause', 'resume']);
  assert.deepEqual(a.told, ['grant', 'pause'], 'a trains again and is paused for b');
  turns.standsStill(a);
  assert.deepEqual(b.told, ['pause', 'resume', 'grant']);
  turns.done(b);
  assert.deepEqual(a.told, ['grant', 'pause', 'resume']);
});

test('a neighbour that ends its child or dies is not waited for; a holder that dies ends its turn', () => {
  const members = [new Member('a', true), new Member('b', true), new Member('c', true)];
  const [a, b, c] = members;
  const turns = new QuietTurns(() => members);
  // As the pool does: a trainer that died is out of its list, then leaves the turns.
  const die = (member: Member) => {
    members.splice(members.indexOf(member), 1);
    turns.leave(member);
  };
  turns.want(a);
  turns.standsStill(b);
  assert.deepEqual(a.told, []);
  die(c);
  assert.deepEqual(a.told, ['grant']);
  turns.want(b);
  die(a);
  assert.deepEqual(b.told, ['pause', 'resume', 'grant']);
});

test('a neighbour that never stands still delays the turn by the pause wait, not for ever', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const [a, b] = [new Member('a', true), new Member('b', true)];
  const turns = setUp(a, b);
  turns.want(a);
  t.mock.timers.tick(PAUSE_WAIT_MS - 1);
  assert.deepEqual(a.told, []);
  t.mock.timers.tick(1);
  assert.deepEqual(a.told, ['grant']);
  turns.standsStill(b);
  assert.deepEqual(a.told, ['grant'], 'granted once');
});
