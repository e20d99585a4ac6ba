import { Injectable, Logger } from '@nestjs/common';
import { EMPTY, catchError, defer, exhaustMap, forkJoin, mergeMap, scan, share, takeUntil, timer, type Observable } from 'rxjs';
import { Stopping } from '../common/stopping';
import { DevicesService } from '../devices/devices.service';
import { JobsService } from '../jobs/jobs.service';
import { farmEvents, type FarmEvent, type FarmSnapshot } from './farm-events';
import { JOB_EVENTS_POLL_MS } from './job-events.service';

/** A job that has ended stays in the snapshots this long, so every client sees it end. */
const ENDED_JOB_MS = 60_000;

/**
 * The farm's live events: jobs and devices change in Postgres from many places (submissions,
 * claims, reports, the reaper, heartbeats), so the farm is read every JOB_EVENTS_POLL_MS while
 * anyone listens, once for all of them, and each client is sent what changed since it last heard.
 */
@Injectable()
export class FarmEventsService {
  private readonly logger = new Logger(FarmEventsService.name);
  private readonly snapshots: Observable<FarmSnapshot>;

  constructor(
    jobs: JobsService,
    devices: DevicesService,
    private readonly stopping: Stopping,
  ) {
    this.snapshots = timer(0, JOB_EVENTS_POLL_MS).pipe(
      exhaustMap(() =>
        defer(() => forkJoin({ jobs: jobs.unfinished(ENDED_JOB_MS), devices: devices.list({}) })).pipe(
          // A failed read (Postgres restarting) skips a beat rather than ending every stream.
          catchError((error: unknown) => {
            this.logger.warn(`could not read the farm: ${String(error)}`);
            return EMPTY;
          }),
        ),
      ),
      share(),
    );
  }

  watch(): Observable<FarmEvent> {
    return this.snapshots.pipe(
      scan<FarmSnapshot, { last?: FarmSnapshot; events: FarmEvent[] }>((state, snapshot) => ({ last: snapshot, events: farmEvents(state.last, snapshot) }), { events: [] }),
      mergeMap((state) => state.events),
      // As a job's stream does: an open response would keep the API from stopping.
      takeUntil(this.stopping.signal),
    );
  }
}
