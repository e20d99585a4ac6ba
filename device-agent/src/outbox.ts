import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { RunReportSchema, type RunReport } from '@farm/contracts';

/** One line of the outbox file. */
type Line = { agentId: string } | { seq: number; report: RunReport } | { acked: number[] };

/** What a previous process of this agent left unacknowledged, in the order it was written. */
export interface Leftover {
  agentId: string | undefined;
  reports: { seq: number; report: RunReport }[];
}

/**
 * The agent's durable record of reports on their way to the API: an append-only file of JSON
 * lines, one per agent (`<dir>/<agent name>.jsonl`). A batch of reports is appended and fsync'd
 * before it is uploaded, and an `acked` line follows once the API has answered; a report with no
 * `acked` line is sent again by the next process after a crash. Uploads are idempotent on the API
 * side, so a report acknowledged just before a crash, whose `acked` line never reached the disk,
 * is harmless to send again. The file is rewritten with only the open reports when it grows.
 */
export class Outbox {
  private handle: FileHandle | undefined;
  private seq = 0;
  private bytes = 0;
  private agentId: string | undefined;
  /** Reports appended and not yet acknowledged, as their lines. */
  private readonly open = new Map<number, string>();
  /** Appends, acks and rewrites happen one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly compactBytes = 4 * 1024 * 1024,
  ) {}

  static forAgent(dir: string, agentName: string): Outbox {
    return new Outbox(path.join(dir, `${agentName}.jsonl`));
  }

  /**
   * Reads what the previous process left and opens the file for this one. Lines past the last
   * complete one (a write cut short by the crash) are ignored: their batch was never uploaded.
   */
  async recover(): Promise<Leftover> {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const reports = new Map<number, RunReport>();
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const raw of text.split('\n')) {
      const line = parseLine(raw);
      if (!line) continue;
      if ('agentId' in line) this.agentId = line.agentId;
      else if ('report' in line) reports.set(line.seq, line.report);
      else for (const seq of line.acked) reports.delete(seq);
    }
    // This process starts from these, renumbered in order: they stay open until the replay
    // acknowledges them.
    const leftover = [...reports.entries()].sort(([a], [b]) => a - b).map(([, report]) => ({ seq: ++this.seq, report }));
    for (const { seq, report } of leftover) this.open.set(seq, JSON.stringify({ seq, report }));
    this.rewrite();
    this.handle = await open(this.file, 'a');
    return { agentId: this.agentId, reports: leftover };
  }

  /** Remembers which agent the reports belong to, so a restarted process can replay them. */
  setAgent(agentId: string): Promise<void> {
    if (agentId === this.agentId) return Promise.resolve();
    this.agentId = agentId;
    return this.write([JSON.stringify({ agentId })], true);
  }

  /**
   * Appends reports, each given as its JSON (the same text then goes to the API), and syncs them
   * to disk; resolves with their sequence numbers.
   */
  async append(encoded: readonly string[]): Promise<number[]> {
    const seqs = encoded.map(() => ++this.seq);
    const lines = encoded.map((report, i) => `{"seq":${seqs[i]},"report":${report}}`);
    lines.forEach((line, i) => this.open.set(seqs[i] ?? 0, line));
    await this.write(lines, true);
    return seqs;
  }

  /** Marks reports as answered by the API. Not synced: losing it only means sending them again. */
  async ack(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    for (const seq of seqs) this.open.delete(seq);
    await this.write([JSON.stringify({ acked: seqs })], false);
    if (this.bytes > this.compactBytes) {
      this.chain = this.chain.then(() => this.compact());
      await this.chain;
    }
  }

  /** Reports appended and not yet acknowledged. */
  get pending(): number {
    return this.open.size;
  }

  /** Closes the file; a clean stop with nothing left open removes it. */
  async close(): Promise<void> {
    await this.chain;
    await this.handle?.close();
    this.handle = undefined;
    if (this.open.size === 0) rmSync(this.file, { force: true });
  }

  private write(lines: readonly string[], sync: boolean): Promise<void> {
    const text = lines.map((l) => `${l}\n`).join('');
    const next = this.chain.then(async () => {
      const handle = this.handle;
      if (!handle) throw new Error(`the outbox ${this.file} is not open`);
      await handle.write(text);
      this.bytes += Buffer.byteLength(text);
      if (sync) await handle.sync();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async compact(): Promise<void> {
    await this.handle?.close();
    this.rewrite();
    this.handle = await open(this.file, 'a');
  }

  /** Replaces the file by one holding the agent and the open reports only, atomically. */
  private rewrite(): void {
    const lines = [...(this.agentId ? [JSON.stringify({ agentId: this.agentId })] : []), ...this.open.values()];
    const text = lines.map((l) => `${l}\n`).join('');
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
    const dir = openSync(path.dirname(this.file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.bytes = Buffer.byteLength(text);
  }
}

function parseLine(raw: string): Line | undefined {
  if (!raw.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const line = value as Record<string, unknown>;
  if (typeof line['agentId'] === 'string') return { agentId: line['agentId'] };
  if (Array.isArray(line['acked'])) return { acked: line['acked'].filter((n): n is number => typeof n === 'number') };
  const report = RunReportSchema.safeParse(line['report']);
  if (typeof line['seq'] === 'number' && report.success) return { seq: line['seq'], report: report.data };
  return undefined;
}
