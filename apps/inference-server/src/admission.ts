/** Thrown to requests still waiting when the server stops. */
export class GateClosedError extends Error {
  constructor() {
    super('the server is stopping');
    this.name = 'GateClosedError';
  }
}

/**
 * Admission control: at most `concurrency` holders at once and at most `queue` waiting.
 * `tryEnter` answers at once: null when both are full (the caller refuses the request),
 * otherwise a promise that resolves when the caller holds a slot. Every holder must `leave`.
 */
export class AdmissionGate {
  private active = 0;
  private readonly waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private closed = false;

  constructor(
    readonly concurrency: number,
    readonly queue: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  tryEnter(): Promise<void> | null {
    if (this.closed) return Promise.reject(new GateClosedError());
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length < this.queue) {
      return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
    }
    return null;
  }

  leave(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter, so `active` does not change.
    if (next) next.resolve();
    else this.active = Math.max(0, this.active - 1);
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new GateClosedError());
  }
}
