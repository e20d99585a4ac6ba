import { FarmApiUnreachableError, formatProgress, type FarmApi } from '@farm/client';
import type { JobProgress, JobView } from '@farm/contracts';

type Counts = Pick<JobView, 'status' | 'progress'>;

export function finishedRuns(p: JobProgress): number {
  return p.passed + p.failed + p.errored + p.cancelled + p.timedOut;
}

/** `1m05s`-style elapsed time. */
export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** `[#######-------]`: the share of runs that have finished, in `width` cells. */
export function progressBar(p: JobProgress, width: number): string {
  const filled = p.total === 0 ? width : Math.min(width, Math.floor((finishedRuns(p) / p.total) * width));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/**
 * The line a terminal redraws while a job runs: the counts (those that can only grow past zero
 * when something went wrong shown once they have), with a bar sized to the room the terminal has
 * left (none when too little), cut to its width.
 */
export function progressLine(job: Counts, elapsedMs: number, columns: number): string {
  const p = job.progress;
  const counts: [string, number][] = [['queued', p.queued], ['running', p.running], ['passed', p.passed], ['failed', p.failed]];
  const rare: [string, number][] = [['errored', p.errored], ['cancelled', p.cancelled], ['timed out', p.timedOut]];
  const shown = [...counts, ...rare.filter(([, n]) => n > 0)].map(([label, n]) => `${label} ${n}`).join('  ');
  const text = `${finishedRuns(p)}/${p.total} runs  ${shown}  ${formatElapsed(elapsedMs)}`;
  const room = Math.min(40, columns - text.length - 2);
  return (room >= 10 ? `${progressBar(p, room - 2)} ${text}` : text).slice(0, Math.max(0, columns - 1));
}

/** A line for logs (not a terminal): written only when the counts change. */
export function plainLine(job: Counts, elapsedMs: number): string {
  return `${finishedRuns(job.progress)}/${job.progress.total} runs  ${formatProgress(job.progress)}  ${job.status} (${formatElapsed(elapsedMs)})`;
}

export interface ProgressView {
  update(job: Counts): void;
  note(message: string): void;
  /** Leaves the last figures on screen and stops redrawing. */
  end(): void;
}

/**
 * Shows a job's progress on a stream of messages (stderr): a terminal gets one line redrawn in
 * place, with the elapsed time ticking; anything else a plain line whenever the counts change.
 */
export function progressView(stream: NodeJS.WriteStream, now: () => number = Date.now): ProgressView {
  const started = now();
  let last: Counts | undefined;
  if (!stream.isTTY) {
    let lastLine = '';
    return {
      update: (job) => {
        const counts = `${job.status} ${JSON.stringify(job.progress)}`;
        if (counts !== lastLine) stream.write(`${plainLine(job, now() - started)}\n`);
        lastLine = counts;
      },
      note: (message) => stream.write(`${message}\n`),
      end: () => undefined,
    };
  }
  const draw = () => {
    if (last) stream.write(`\r\x1b[2K${progressLine(last, now() - started, stream.columns || 80)}`);
  };
  const ticker = setInterval(draw, 1000);
  ticker.unref();
  return {
    update: (job) => {
      last = job;
      draw();
    },
    note: (message) => stream.write(`\r\x1b[2K${message}\n`),
    end: () => {
      clearInterval(ticker);
      if (last) stream.write('\n');
    },
  };
}

/**
 * Follows a job's server-sent events until the API says it has finished. A stream that breaks
 * after it was open (an API restart, a proxy's timeout) is opened again, waiting 0.5 s, 1 s, 2 s,
 * ... (at most 5 s) in between, for up to `giveUpMs` without an event; an API that cannot be
 * reached at the start fails at once.
 */
export async function followJob(api: FarmApi, jobId: string, view: ProgressView, options: { giveUpMs?: number } = {}): Promise<void> {
  let connected = false;
  let lastEvent = Date.now();
  for (let attempt = 0; ; attempt++) {
    let reason: string;
    try {
      for await (const event of api.events(jobId)) {
        connected = true;
        lastEvent = Date.now();
        attempt = 0;
        if (event.type === 'runs') continue;
        view.update(event.data);
        if (event.type === 'finished') return;
      }
      reason = 'the event stream ended before the job finished';
    } catch (error) {
      if (!(error instanceof FarmApiUnreachableError) || !connected) throw error;
      reason = error.reason;
    }
    if (Date.now() - lastEvent > (options.giveUpMs ?? 60_000)) throw new FarmApiUnreachableError(api.baseUrl, `${reason}; gave up reconnecting`);
    view.note(`lost the job's events (${reason}); reconnecting`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 500 * 2 ** attempt)));
  }
}
