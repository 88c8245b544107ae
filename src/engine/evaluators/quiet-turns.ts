// Quiet turns: a trainer measures its child's inference latency while the pool's other trainers stand
// still between two batches. Timed beside another trainer's training on the same cores, a child measured
// 2 to 3 times slower than alone, and one under max_latency_ms was rejected. One turn at a time; the
// trainers that train are paused and the turn begins once each has said it stands still (or after a
// wait, for one deep in a validation pass), and they resume when the turn ends.

/** A trainer as the turns see it. */
export interface QuietMember {
  /** Training a child now (a trainer between children, or waiting for a turn itself, uses no CPU). */
  readonly training: boolean;
  pause(): void;
  resume(): void;
  grant(): void;
}

/** How long a turn waits for the trainers it paused to stand still before it begins anyway. */
export const PAUSE_WAIT_MS = 2000;

export class QuietTurns<Member extends QuietMember> {
  private readonly wanting: Member[] = [];
  private holder: Member | undefined;
  /** Paused for the turn under way or about to begin: resumed when it ends. */
  private readonly paused = new Set<Member>();
  /** Paused, not yet standing still. */
  private readonly settling = new Set<Member>();
  private waitTimer: NodeJS.Timeout | undefined;

  constructor(private readonly members: () => readonly Member[]) {}

  /** `member` asks for a turn; it waits, untrained, until granted. */
  want(member: Member): void {
    // Waiting for a turn, it trains nothing: it counts as standing still for the turn about to begin.
    this.standsStill(member);
    this.wanting.push(member);
    this.next();
  }

  /** `member`, paused, has stopped between two batches (or has ended its child). */
  standsStill(member: Member): void {
    if (this.settling.delete(member) && this.settling.size === 0) this.begin();
  }

  /** The holder's turn is over. */
  done(member: Member): void {
    if (this.holder !== member) return;
    this.holder = undefined;
    clearTimeout(this.waitTimer);
    this.settling.clear();
    for (const resumed of this.paused) resumed.resume();
    this.paused.clear();
    this.next();
  }

  /** `member` is gone (its process died): it holds, wants and stands in the way of nothing any more. */
  leave(member: Member): void {
    const index = this.wanting.indexOf(member);
    if (index >= 0) this.wanting.splice(index, 1);
    this.paused.delete(member);
    this.standsStill(member);
    this.done(member);
  }

  private next(): void {
    if (this.holder !== undefined || this.wanting.length === 0) return;
    const holder = this.wanting.shift()!;
    this.holder = holder;
    for (const member of this.members())
      if (member !== holder && member.training && !this.wanting.includes(member)) {
        this.paused.add(member);
        this.settling.add(member);
        member.pause();
      }
    if (this.settling.size === 0) this.begin();
    else this.waitTimer = setTimeout(() => this.begin(), PAUSE_WAIT_MS);
  }

  private begin(): void {
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.settling.clear();
    this.holder?.grant();
  }
}
