import type { FarmEvents } from '@farm/contracts';
import { useEffect, useRef } from 'react';
import { follow } from './api';

/**
 * Follows the farm's stream, `/api/events` (jobs and devices as they change), for as long as
 * the component is shown. The first events give every unfinished job and every device.
 */
export function useFarmEvents(on: Partial<{ [K in keyof FarmEvents]: (data: FarmEvents[K]) => void }>): void {
  // The latest handlers, without following the stream anew each time they change.
  const handlers = useRef(on);
  handlers.current = on;
  useEffect(
    () =>
      follow<FarmEvents>('/events', {
        jobs: (data) => handlers.current.jobs?.(data),
        devices: (data) => handlers.current.devices?.(data),
      }),
    [],
  );
}
