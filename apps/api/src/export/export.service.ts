import { Injectable, NotFoundException } from '@nestjs/common';
import type { Phase } from '@farm/contracts';
import { escapeLiteral } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Readable } from 'node:stream';
import { PrismaService } from '../prisma/prisma.service';

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFilter {
  phase?: Phase;
  includeWarmup: boolean;
}

/** The exported columns, in order: the CSV header, the NDJSON key (as the paged JSON endpoint names it) and the SQL. */
const COLUMNS = [
  { csv: 'run_id', json: 'runId', sql: 'm.run_id' },
  { csv: 'device_id', json: 'deviceId', sql: 'r.device_id' },
  { csv: 'device_model', json: 'deviceModel', sql: 'd.model' },
  { csv: 'backend', json: 'backend', sql: 'd.backend' },
  { csv: 'model', json: 'model', sql: 'r.model' },
  { csv: 'scenario', json: 'scenario', sql: 'r.scenario' },
  { csv: 'attempt', json: 'attempt', sql: 'm.attempt' },
  { csv: 'iteration', json: 'iteration', sql: 'm.iteration' },
  { csv: 'warmup', json: 'warmup', sql: 'm.warmup' },
  { csv: 'phase', json: 'phase', sql: 'm.phase' },
  { csv: 'duration_ms', json: 'durationMs', sql: 'm.duration_ms' },
  { csv: 'energy_mj', json: 'energyMj', sql: 'm.energy_mj' },
  { csv: 'energy_method', json: 'energyMethod', sql: 'm.energy_method' },
] as const;

/**
 * Streams a job's measurements out of Postgres with `COPY ... TO STDOUT`: the server formats
 * every row, and the stream reads the connection only as fast as its consumer takes the
 * bytes, so an export of millions of rows holds a few buffers in memory, never the rows.
 */
@Injectable()
export class ExportService {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * The rows of the runs' current attempts, as CSV with a header or as one JSON object a line.
   * Throws 404 for an unknown job before any byte is produced. The connection goes back to the
   * pool when the stream ends, and is closed (ending the COPY) when it is destroyed early.
   */
  async measurements(jobId: string, format: ExportFormat, filter: ExportFilter): Promise<Readable> {
    const client = await this.prisma.connect();
    let stream: Readable;
    try {
      const found = await client.query('SELECT 1 FROM jobs WHERE id = $1::uuid', [jobId]);
      if (found.rowCount === 0) throw new NotFoundException(`job ${jobId} does not exist`);
      stream = client.query(copyTo(copyStatement(jobId, format, filter)));
    } catch (error) {
      client.release();
      throw error;
    }
    let complete = false;
    stream.once('end', () => (complete = true));
    stream.once('close', () => client.release(complete ? undefined : new Error('the export stopped before its end')));
    return stream;
  }
}

/**
 * COPY takes no bind parameters, so the (validated) values are inlined as quoted literals.
 * Numbers come out as Postgres prints them (the shortest text that reads back to the same
 * float8). NDJSON goes through CSV mode with a quote and a delimiter that JSON text never holds
 * raw (row_to_json escapes control characters), so each line is the JSON exactly: text mode
 * would double its backslashes.
 */
function copyStatement(jobId: string, format: ExportFormat, filter: ExportFilter): string {
  const where = [`r.job_id = ${escapeLiteral(jobId)}::uuid`];
  if (filter.phase) where.push(`m.phase = ${escapeLiteral(filter.phase)}::"Phase"`);
  if (!filter.includeWarmup) where.push('NOT m.warmup');
  const from = `FROM measurements m
    JOIN runs r ON r.id = m.run_id AND r.attempt = m.attempt
    JOIN devices d ON d.id = r.device_id
   WHERE ${where.join(' AND ')}`;
  // The paged JSON endpoint's order: by run, then iteration, then phase.
  const order = 'ORDER BY m.run_id, m.iteration, m.phase';
  if (format === 'csv') {
    const columns = COLUMNS.map((c) => `${c.sql}::text AS ${c.csv}`).join(', ');
    return `COPY (SELECT ${columns} ${from} ${order}) TO STDOUT WITH (FORMAT csv, HEADER)`;
  }
  const columns = COLUMNS.map((c) => `${c.sql} AS "${c.json}"`).join(', ');
  return `COPY (SELECT row_to_json(e)::text FROM (SELECT ${columns} ${from} ${order}) e) TO STDOUT WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')`;
}
