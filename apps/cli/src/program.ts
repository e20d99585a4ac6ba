import { rename, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { FarmApi, fixed, formatTable, outcomeLine, phaseTable, problemLines, studyTable } from '@farm/client';
import { BACKENDS, DEVICE_STATES, PHASES, type AgentView, type DeviceView, type JobView } from '@farm/contracts';
import { CsvRecordCounter } from './csv';
import { CliError, EXIT, EXIT_CODES_HELP, type ExitCode } from './exit';
import { flagParser, jobSpec, readJobFile, SPEC_FLAGS } from './job-input';
import { followJob, progressView } from './watch';

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

export interface Streams {
  stdout: NodeJS.WritableStream;
  /** Messages and progress; a terminal gets a redrawn progress bar. */
  stderr: NodeJS.WriteStream;
}

interface GlobalOptions {
  api: string;
  token?: string;
  json: boolean;
}

/** What every command works with: the API client and where its output goes. */
interface Context {
  api: FarmApi;
  json: boolean;
  /** Output for scripts and people: JSON under --json, else the text. */
  print(text: string, value: unknown): void;
  /** A message for people (stderr). */
  note(message: string): void;
  streams: Streams;
}

/** Most problems a job can have are listed; past this many, a count stands for the rest. */
const MAX_PROBLEMS = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `farm` command line. Each command's action resolves to the exit code it means; errors are
 * thrown and explained by the caller (see exit.ts).
 */
export function buildProgram(streams: Streams, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command('farm')
    .description("The device farm's command line: submit and watch benchmark jobs, read their figures, export them, list the fleet.")
    .addOption(new Option('--api <url>', "the farm API's address").env('FARM_API_URL').default(DEFAULT_API_URL))
    .addOption(new Option('--token <token>', 'sent as a bearer token').env('FARM_TOKEN'))
    .option('--json', 'machine-readable output on stdout (messages stay on stderr)', false)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => streams.stdout.write(text), writeErr: (text) => streams.stderr.write(text) })
    .exitOverride()
    .addHelpText('after', `${EXIT_CODES_HELP}\n\nEnvironment: FARM_API_URL (default ${DEFAULT_API_URL}), FARM_TOKEN.`);

  const action =
    <A extends unknown[]>(run: (ctx: Context, ...args: A) => Promise<ExitCode>) =>
    async (...args: [...A, Command]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      setExitCode(await run(context(command.optsWithGlobals<GlobalOptions>(), streams), ...(args.slice(0, -1) as A)));
    };

  const submit = program
    .command('submit')
    .description('Submit a job from a YAML or JSON file, from flags, or both (flags override the file)')
    .argument('[file]', 'job spec, YAML or JSON (as POST /api/jobs takes it)')
    .option('-w, --watch', 'then watch it to the end and print its figures; the exit code says whether every run passed', false);
  for (const flag of SPEC_FLAGS) {
    const option = new Option(flag.flags, flag.description);
    const parse = flagParser(flag.kind);
    submit.addOption(parse ? option.argParser(parse) : option);
  }
  submit.action(
    action(async (ctx, file: string | undefined) => {
      const options = submit.opts<Record<string, unknown> & { watch: boolean }>();
      const spec = jobSpec(file === undefined ? undefined : readJobFile(file), options, file ?? 'the job given by flags');
      const job = await ctx.api.submit(spec);
      const submitted = `job ${job.id} submitted: ${job.progress.total} runs`;
      if (!options.watch) {
        ctx.print(submitted, job);
        return EXIT.ok;
      }
      ctx.note(submitted);
      return watchAndReport(ctx, job.id);
    }),
  );

  program
    .command('watch')
    .description("Follow a job to its end with a progress bar and live counts, then print its figures; the exit code says whether every run passed")
    .argument('<job>', 'job id')
    .action(action(async (ctx, id: string) => watchAndReport(ctx, jobId(id))));

  program
    .command('summary')
    .description("Print a job's per-phase figures and its on-device versus cloud ratios")
    .argument('<job>', 'job id')
    .action(
      action(async (ctx, id: string) => {
        await report(ctx, jobId(id));
        return EXIT.ok;
      }),
    );

  const exportCommand = program
    .command('export')
    .description("Save a job's measurements (every row of the runs' current attempts) or its summary as CSV")
    .argument('<job>', 'job id')
    .option('-o, --output <file>', 'write to this file (written whole or not at all) instead of stdout')
    .option('--summary', "the summary's groups instead of the measurements", false)
    .addOption(new Option('--phase <phase>', 'measurements of this phase only').choices(PHASES).conflicts('summary'))
    .addOption(new Option('--no-warmup', 'leave warm-up iterations out').conflicts('summary'));
  exportCommand.action(
    action(async (ctx, id: string) => {
      const options = exportCommand.opts<{ output?: string; summary: boolean; phase?: string; warmup: boolean }>();
      const job = jobId(id);
      const chunks = options.summary
        ? ctx.api.download(`/api/jobs/${job}/summary.csv`)
        : ctx.api.download(`/api/jobs/${job}/measurements.csv`, { phase: options.phase, includeWarmup: options.warmup ? undefined : 'false' });
      const rows = await saveCsv(chunks, options.output, ctx.streams.stdout);
      const what = options.summary ? 'summary groups' : 'measurements';
      if (options.output) ctx.print(`wrote ${rows} ${what} to ${options.output}`, { file: options.output, rows });
      else ctx.note(`${rows} ${what}`);
      return EXIT.ok;
    }),
  );

  const devices = program
    .command('devices')
    .description('List the devices: state, backend, agent, health')
    .addOption(new Option('--backend <backend>', 'only this backend').choices(BACKENDS))
    .addOption(new Option('--state <state>', 'only devices in this state').choices(DEVICE_STATES))
    .option('--tag <tag>', 'only devices carrying this tag');
  devices.action(
    action(async (ctx) => {
      const list = await ctx.api.devices(devices.opts<NonNullable<Parameters<FarmApi['devices']>[0]>>());
      ctx.print(`${deviceTable(list)}\n\n${list.length} devices`, list);
      return EXIT.ok;
    }),
  );

  program
    .command('agents')
    .description('List the agents: state, backends, devices, last heartbeat')
    .action(
      action(async (ctx) => {
        const list = await ctx.api.agents();
        ctx.print(`${agentTable(list, Date.now())}\n\n${list.length} agents`, list);
        return EXIT.ok;
      }),
    );

  program
    .command('cancel')
    .description('Cancel a job: queued runs end at once, running ones at their next phase boundary')
    .argument('<job>', 'job id')
    .action(
      action(async (ctx, id: string) => {
        const job = await ctx.api.cancel(jobId(id));
        ctx.print(`job ${job.id} ${job.status}: ${job.progress.cancelled} runs cancelled, ${job.progress.running} still stopping`, job);
        return EXIT.ok;
      }),
    );

  return program;
}

function context(options: GlobalOptions, streams: Streams): Context {
  const write = (stream: NodeJS.WritableStream, text: string) => stream.write(text.endsWith('\n') ? text : `${text}\n`);
  return {
    api: new FarmApi(apiUrl(options.api), { token: options.token }),
    json: options.json,
    print: (text, value) => write(streams.stdout, options.json ? JSON.stringify(value, null, 2) : text),
    note: (message) => write(streams.stderr, message),
    streams,
  };
}

function apiUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--api (or FARM_API_URL) "${value}" is not a URL such as ${DEFAULT_API_URL}`, EXIT.badInput);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--api (or FARM_API_URL) "${value}" must be an http or https URL`, EXIT.badInput);
  return url.toString();
}

function jobId(value: string): string {
  if (!UUID.test(value)) throw new CliError(`"${value}" is not a job id (a UUID such as 0b6f5f6e-...)`, EXIT.badInput);
  return value.toLowerCase();
}

/** Shows a job's progress until it has finished, then its figures; the exit code is the job's outcome. */
async function watchAndReport(ctx: Context, id: string): Promise<ExitCode> {
  const view = progressView(ctx.streams.stderr);
  try {
    await followJob(ctx.api, id, view);
  } finally {
    view.end();
  }
  const job = await report(ctx, id);
  return job.progress.passed === job.progress.total ? EXIT.ok : EXIT.jobNotPassed;
}

/** Prints a job's figures: the per-phase table, the study's on-device versus cloud table, the runs that did not pass. */
async function report(ctx: Context, id: string): Promise<JobView> {
  const [job, summary, study] = await Promise.all([ctx.api.job(id), ctx.api.summary(id), ctx.api.study(id)]);
  const problems = problemLines(job.runs ?? []);
  const shown = problems.length > MAX_PROBLEMS ? [...problems.slice(0, MAX_PROBLEMS), `... and ${problems.length - MAX_PROBLEMS} more (--json lists every run)`] : problems;
  const figures =
    summary.groups.length === 0
      ? 'No figures: no run has passed.'
      : [
          'Per-phase figures in ms (passed runs, warm-up iterations left out)',
          phaseTable(summary.groups),
          'On-device versus cloud, per device model and CNN (medians of the per-iteration total)',
          studyTable(study.pairs),
        ].join('\n\n');
  ctx.print([figures, ...(shown.length > 0 ? [shown.join('\n')] : []), outcomeLine(job)].join('\n\n'), { job, summary, study });
  return job;
}

/** Streams CSV to a file (through a temporary file, so a failed export leaves nothing) or to stdout; returns the rows after the header. */
async function saveCsv(chunks: AsyncGenerator<string>, file: string | undefined, stdout: NodeJS.WritableStream): Promise<number> {
  const counter = new CsvRecordCounter();
  const counted = async function* (source: AsyncIterable<string>) {
    for await (const chunk of source) {
      counter.push(chunk);
      yield chunk;
    }
  };
  if (!file) {
    await pipeline(chunks, counted, stdout, { end: false });
    return counter.rows;
  }
  const partial = `${file}.part`;
  const output = createWriteStream(partial, { flags: 'w' });
  const opened = new Promise<void>((resolve, reject) => {
    output.once('open', () => resolve());
    output.once('error', reject);
  });
  try {
    await opened.catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot write ${file}: ${error.code === 'ENOENT' ? 'no such directory' : error.message}`, EXIT.badInput);
    });
    await pipeline(chunks, counted, output);
    await rename(partial, file);
  } catch (error) {
    output.destroy();
    await rm(partial, { force: true });
    throw error;
  }
  return counter.rows;
}

function deviceTable(devices: readonly DeviceView[]): string {
  return formatTable(
    ['id', 'serial', 'backend', 'manufacturer', 'model', 'os', 'state', 'agent', 'battery %', 'temp C', 'failed checks', 'tags'],
    devices.map((d) => [
      d.id,
      d.serial,
      d.backend,
      d.manufacturer,
      d.model,
      d.osVersion,
      d.quarantine ? `quarantined (${d.quarantine.reason})` : d.state,
      d.agentName,
      fixed(d.batteryPct, 0),
      fixed(d.temperatureC, 1),
      d.healthFailures,
      d.tags.join(',') || '-',
    ]),
  );
}

function agentTable(agents: readonly AgentView[], now: number): string {
  return formatTable(
    ['name', 'id', 'host', 'state', 'backends', 'devices', 'last heartbeat'],
    agents.map((a) => [a.name, a.id, a.hostname, a.state, a.backends.join(','), a.devices, `${Math.max(0, Math.round((now - Date.parse(a.lastHeartbeatAt)) / 1000))} s ago`]),
  );
}
