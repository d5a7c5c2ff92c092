/**
 * React hooks shared by the panel's views: polling and a ticking clock.
 */
import { useEffect, useRef, useState } from 'react';

/** How often views refresh while something is running. */
export const POLL_INTERVAL_MS = 2000;

/**
 * Calls `tick` every `intervalMs` while `active`, waiting for each call to
 * settle before scheduling the next (a slow server never gets overlapping
 * requests). Skips ticks while the browser tab is hidden. Stops on unmount,
 * which for a ReactWidget is when it is disposed or detached.
 */
export function usePolling(
  tick: () => Promise<void>,
  active: boolean,
  intervalMs = POLL_INTERVAL_MS
): void {
  const latest = useRef(tick);
  latest.current = tick;

  useEffect(() => {
    if (!active) {
      return;
    }
    let stopped = false;
    let timer: number | undefined;
    const schedule = () => {
      timer = window.setTimeout(run, intervalMs);
    };
    const run = async () => {
      if (stopped) {
        return;
      }
      if (document.visibilityState !== 'hidden') {
        try {
          await latest.current();
        } catch {
          // The tick reports its own errors; polling goes on.
        }
      }
      if (!stopped) {
        schedule();
      }
    };
    schedule();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [active, intervalMs]);
}

/** The current time, refreshed every `intervalMs` (for "3 min ago" labels). */
export function useNow(intervalMs = 30000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}
