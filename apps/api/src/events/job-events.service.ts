import { Injectable } from '@nestjs/common';
import type { JobEvent, JobView } from '@farm/contracts';
import { concat, defer, exhaustMap, finalize, mergeMap, of, scan, share, takeUntil, takeWhile, timer, type Observable } from 'rxjs';
import { Stopping } from '../common/stopping';
import { JobsService } from '../jobs/jobs.service';
import { jobEvents } from './job-events';

/** How often a watched job is read from Postgres. */
export const JOB_EVENTS_POLL_MS = 500;

/**
 * Live events of jobs. Runs change in Postgres from several places (claims, reports, the
 * reaper, cancels), so each watched job is read every JOB_EVENTS_POLL_MS, once for all the
 * clients watching it, and each client is sent what changed since it last heard.
 */
@Injectable()
export class JobEventsService {
  private readonly feeds = new Map<string, Observable<JobView>>();

  constructor(
    private readonly jobs: JobsService,
    private readonly stopping: Stopping,
  ) {}

  /** Rejects with NotFoundException for an unknown job, before anything is streamed. */
  async watch(jobId: string): Promise<Observable<JobEvent>> {
    const first = await this.jobs.get(jobId);
    const views = first.finishedAt ? of(first) : concat(of(first), this.feed(jobId));
    return views.pipe(
      scan<JobView, { last?: JobView; events: JobEvent[] }>((state, view) => ({ last: view, events: jobEvents(state.last, view) }), { events: [] }),
      mergeMap((state) => state.events),
      // An open response would keep the API from stopping; clients reconnect (to the restarted
      // API or another replica) anyway.
      takeUntil(this.stopping.signal),
    );
  }

  private feed(jobId: string): Observable<JobView> {
    let feed = this.feeds.get(jobId);
    if (!feed) {
      feed = timer(JOB_EVENTS_POLL_MS, JOB_EVENTS_POLL_MS).pipe(
        exhaustMap(() => defer(() => this.jobs.get(jobId))),
        takeWhile((view) => !view.finishedAt, true),
        finalize(() => this.feeds.delete(jobId)),
        share(),
      );
      this.feeds.set(jobId, feed);
    }
    return feed;
  }
}
