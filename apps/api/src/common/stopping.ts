import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { RequestHandler } from 'express';
import { ReplaySubject, type Observable } from 'rxjs';

/**
 * What lets a stopping API exit while its clients go on asking. Node's `server.close()` waits
 * for every connection busy when it is called, and a kept-alive connection that a client goes on
 * using (an agent's reports, a CLI reopening a job's event stream) stays busy for as long as it
 * asks, so the API waited on it without end. From the moment the API begins to stop, open event
 * streams end, and every response asks its client to close the connection after it.
 */
@Injectable()
export class Stopping implements BeforeApplicationShutdown {
  private readonly begun = new ReplaySubject<void>(1);
  private stopping = false;

  /** Emits once, when the API begins to stop; a later subscriber hears it at once. */
  get signal(): Observable<void> {
    return this.begun;
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
    this.begun.next();
  }

  /** Express middleware: `Connection: close` on every response once the API is stopping. */
  middleware(): RequestHandler {
    return (_req, res, next) => {
      if (this.stopping) res.setHeader('Connection', 'close');
      next();
    };
  }
}
