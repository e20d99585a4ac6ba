import type { JobProgress } from '@farm/contracts';
import { finishedRuns, percentDone } from '../view';

export function ProgressBar({ progress, label }: { progress: JobProgress; label: string }) {
  return (
    <span>
      <progress aria-label={label} max={100} value={percentDone(progress)} /> {finishedRuns(progress)}/{progress.total} ({percentDone(progress)}%)
    </span>
  );
}
