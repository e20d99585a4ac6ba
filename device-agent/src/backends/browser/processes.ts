import { promises as fs } from 'node:fs';

/**
 * Kills every process whose command line carries `arg` exactly, and says how many. A run's
 * Chromium is marked by its own --user-data-dir, so this finds the browser (and its helpers)
 * that chromedriver left behind when a session failed half-way, and nothing else. Linux only
 * (/proc); elsewhere it finds nothing.
 */
export async function killProcessesWithArg(arg: string): Promise<number> {
  const entries = await fs.readdir('/proc').catch(() => [] as string[]);
  let killed = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.split('\0').includes(arg)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {
      // already gone
    }
  }
  return killed;
}
