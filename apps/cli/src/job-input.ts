import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { JobSpecSchema, zodDetails, type JobSpecInput } from '@farm/contracts';
import { parseDocument } from 'yaml';
import { CliError, EXIT } from './exit';

type FlagKind = 'text' | 'list' | 'int';

/** A flag of `farm submit` that sets one field of the job spec. */
export interface SpecFlag {
  /** The option's property name as commander gives it. */
  key: string;
  flags: string;
  /** The field it sets, as the schema's error paths name it. */
  path: string;
  kind: FlagKind;
  description: string;
}

/** The job spec's fields as flags, in the order `--help` lists them. */
export const SPEC_FLAGS: readonly SpecFlag[] = [
  { key: 'name', flags: '--name <name>', path: 'name', kind: 'text', description: 'name of the job' },
  { key: 'model', flags: '-m, --model <names>', path: 'models', kind: 'list', description: 'CNNs, comma-separated or repeated (mobilenet_v2, mobilenet_v2_mid, inception_v3 or registered ones)' },
  { key: 'scenario', flags: '-s, --scenario <names>', path: 'scenarios', kind: 'list', description: 'on_device and/or cloud, comma-separated or repeated' },
  { key: 'iterations', flags: '-n, --iterations <n>', path: 'iterations', kind: 'int', description: 'measured iterations per run' },
  { key: 'warmup', flags: '--warmup <n>', path: 'warmup', kind: 'int', description: 'warm-up iterations per run (stored, flagged, left out of figures)' },
  { key: 'backend', flags: '--backend <backend>', path: 'devices.backend', kind: 'text', description: 'devices: android, browser or simulated' },
  { key: 'manufacturer', flags: '--manufacturer <name>', path: 'devices.manufacturer', kind: 'text', description: 'devices: by manufacturer' },
  { key: 'deviceModel', flags: '--device-model <name>', path: 'devices.model', kind: 'text', description: 'devices: by model name (e.g. "Pixel 7")' },
  { key: 'osVersion', flags: '--os-version <constraint>', path: 'devices.osVersion', kind: 'text', description: 'devices: OS version, e.g. 13 or ">=13"' },
  { key: 'tag', flags: '--tag <tags>', path: 'devices.tags', kind: 'list', description: 'devices: carrying every one of these tags' },
  { key: 'deviceId', flags: '--device-id <ids>', path: 'devices.ids', kind: 'list', description: 'devices: these ids only' },
  { key: 'maxDevices', flags: '--max-devices <n>', path: 'devices.maxDevices', kind: 'int', description: 'devices: at most this many' },
  { key: 'priority', flags: '--priority <n>', path: 'priority', kind: 'int', description: '1 (lowest) to 10 (highest)' },
  { key: 'deadlineMinutes', flags: '--deadline-minutes <n>', path: 'deadlineMinutes', kind: 'int', description: 'runs not done by then end as timed_out' },
  { key: 'network', flags: '--network <label>', path: 'network', kind: 'text', description: 'label of the network the devices are on (wifi, lte, ...)' },
  { key: 'maxAttempts', flags: '--max-attempts <n>', path: 'maxAttempts', kind: 'int', description: 'attempts an infrastructure failure may take' },
];

/** Commander's parser for a flag of this kind: lists gather comma-separated and repeated values. */
export function flagParser(kind: FlagKind): ((value: string, previous: unknown) => unknown) | undefined {
  switch (kind) {
    case 'text':
      return undefined;
    case 'list':
      return (value, previous) => [
        ...(Array.isArray(previous) ? (previous as string[]) : []),
        ...value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      ];
    case 'int':
      return (value) => {
        if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number.');
        return Number(value);
      };
  }
}

/**
 * Reads a job file: JSON when it ends in `.json`, YAML (which JSON also is) otherwise. A file
 * that cannot be read or parsed is bad input, named with what is wrong and where.
 */
export function readJobFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the job file ${file}: ${fileProblem(error)}`, EXIT.badInput);
  }
  if (text.trim() === '') throw new CliError(`the job file ${file} is empty`, EXIT.badInput);
  return path.extname(file).toLowerCase() === '.json' ? parseJson(file, text) : parseYaml(file, text);
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`the job file ${file} is not valid JSON: ${(error as Error).message}`, EXIT.badInput);
  }
}

function parseYaml(file: string, text: string): unknown {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((e) => `  ${e.message.trimEnd().split('\n').join('\n  ')}`).join('\n');
    throw new CliError(`the job file ${file} is not valid YAML:\n${problems}`, EXIT.badInput);
  }
  return document.toJS() as unknown;
}

function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (error as Error).message;
}

/**
 * The job to submit: the file's spec (undefined without a file) with the flags given on top,
 * checked against the job schema. Every bad field is named by its path.
 */
export function jobSpec(fromFile: unknown, flags: Record<string, unknown>, source: string): JobSpecInput {
  const given = SPEC_FLAGS.filter((flag) => flags[flag.key] !== undefined);
  const spec = given.length > 0 && isObject(fromFile) ? structuredClone(fromFile) : (fromFile ?? {});
  if (isObject(spec)) {
    for (const flag of given) setPath(spec, flag.path, flags[flag.key]);
  }
  const parsed = JobSpecSchema.safeParse(spec);
  if (parsed.success) return spec as JobSpecInput;
  // A field is named by its flag too when the flag set it, or when there is no file to fix.
  const flagOf = (path: string) => SPEC_FLAGS.find((f) => (path === f.path || path.startsWith(`${f.path}[`)) && (fromFile === undefined || given.includes(f)));
  const lines = zodDetails(parsed.error).map((detail) => {
    const flag = flagOf(detail.path);
    const message = / received undefined$/.test(detail.message) ? 'is required' : detail.message;
    return `  ${detail.path}${flag ? ` (${longFlag(flag)})` : ''}: ${message}`;
  });
  throw new CliError(`${source} is not a valid job:\n${lines.join('\n')}`, EXIT.badInput);
}

function longFlag(flag: SpecFlag): string {
  return flag.flags.split(' ').find((part) => part.startsWith('--')) ?? flag.flags;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const [head = '', ...rest] = dotted.split('.');
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const inner = isObject(target[head]) ? target[head] : {};
  target[head] = inner;
  setPath(inner, rest.join('.'), value);
}
