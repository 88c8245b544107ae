// One request/reply client for the host's helper processes and threads (the engine query process,
// the estimate worker): request ids, the requests in flight, failing them when the channel ends,
// and a fresh channel on the next request.

export type Outcome<Value> = { value: Value } | { error: Error };

/** A started process or thread, as the client sees it. */
export interface ReplyChannel<Request> {
  send(id: number, request: Request): void;
  close(): Promise<void>;
}

/** What a channel reports to its client. */
export interface ChannelEvents<Reply> {
  reply(id: number, outcome: Outcome<Reply>): void;
  /** The channel is gone: its requests in flight fail with `error`, and the next request opens another. */
  ended(error: Error): void;
}

export class RequestClient<Request, Reply> {
  private nextId = 1;
  private readonly inFlight = new Map<number, (outcome: Outcome<Reply>) => void>();
  private channel: Promise<ReplyChannel<Request>> | undefined;

  constructor(private readonly open: (events: ChannelEvents<Reply>) => Promise<ReplyChannel<Request>>) {}

  async request(request: Request): Promise<Reply> {
    const channel = await this.connect();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inFlight.set(id, (outcome) => ('value' in outcome ? resolve(outcome.value) : reject(outcome.error)));
      channel.send(id, request);
    });
  }

  private connect(): Promise<ReplyChannel<Request>> {
    if (this.channel) return this.channel;
    const opened: Promise<ReplyChannel<Request>> = this.open({
      reply: (id, outcome) => {
        const settle = this.inFlight.get(id);
        this.inFlight.delete(id);
        settle?.(outcome);
      },
      ended: (error) => {
        // A channel that was already replaced (or never opened) has nothing left to fail.
        if (this.channel !== opened) return;
        this.channel = undefined;
        this.inFlight.forEach((settle) => settle({ error }));
        this.inFlight.clear();
      },
    });
    this.channel = opened;
    opened.catch(() => {
      if (this.channel === opened) this.channel = undefined;
    });
    return opened;
  }

  /** Closes the channel, if one is open; a later request opens another. */
  async dispose(): Promise<void> {
    const opened = this.channel;
    // Closing ends the channel, which fails the requests still in flight.
    await (await opened?.catch(() => undefined))?.close();
    if (this.channel === opened) this.channel = undefined;
  }
}
