import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from './exit';
import { flagParser, jobSpec, readJobFile } from './job-input';

function failure(run: () => unknown): CliError {
  try {
    run();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

const valid = { name: 'nightly', models: ['mobilenet_v2'], scenarios: ['on_device', 'cloud'], iterations: 5 };

describe('flag parsers', () => {
  it('gathers lists from commas and repeats', () => {
    const sut = flagParser('list');
    expect(sut?.('b, c,,', sut('a', undefined))).toEqual(['a', 'b', 'c']);
  });

  it('takes whole numbers and refuses anything else', () => {
    const sut = flagParser('int');
    expect(sut?.('12', undefined)).toBe(12);
    expect(sut?.('-3', undefined)).toBe(-3);
    for (const bad of ['abc', '1.5', '', '3x']) expect(() => sut?.(bad, undefined)).toThrow('must be a whole number');
  });

  it('leaves text as commander gives it', () => {
    expect(flagParser('text')).toBeUndefined();
  });
});

describe('jobSpec', () => {
  it('builds a job from flags alone, the selector fields nested under devices', () => {
    expect(jobSpec(undefined, { name: 'x', model: ['mobilenet_v2'], scenario: ['cloud'], iterations: 3, tag: ['rack-a'], maxDevices: 2, backend: 'simulated' }, 'flags')).toEqual({
      name: 'x',
      models: ['mobilenet_v2'],
      scenarios: ['cloud'],
      iterations: 3,
      devices: { tags: ['rack-a'], maxDevices: 2, backend: 'simulated' },
    });
  });

  it("lays flags over the file's fields without losing the file's other selector fields or changing the file's object", () => {
    const file = { ...valid, devices: { backend: 'android', tags: ['rack-a'] } };
    expect(jobSpec(file, { iterations: 9, tag: ['rack-b'] }, 'job.yaml')).toEqual({ ...valid, iterations: 9, devices: { backend: 'android', tags: ['rack-b'] } });
    expect(file.devices.tags).toEqual(['rack-a']);
  });

  it('names every bad field by its path, and by its flag when a flag set it', () => {
    const error = failure(() => jobSpec({ ...valid, models: ['mobilenet_v2', 7], devices: { size: 3 } }, { iterations: 0 }, 'job.yaml'));
    expect(error.exitCode).toBe(EXIT.badInput);
    expect(error.message.split('\n')).toEqual([
      'job.yaml is not a valid job:',
      '  models[1]: Invalid input: expected string, received number',
      '  devices.size: is not a known field',
      '  iterations (--iterations): Too small: expected number to be >=1',
    ]);
  });

  it('says which fields a job from flags lacks, by their flags', () => {
    const error = failure(() => jobSpec(undefined, { name: 'x' }, 'the job given by flags'));
    expect(error.message.split('\n').slice(1)).toEqual(['  models (--model): is required', '  scenarios (--scenario): is required', '  iterations (--iterations): is required']);
  });

  it('refuses a file that is not a job object', () => {
    expect(failure(() => jobSpec(['a', 'list'], {}, 'job.yaml')).message).toMatch(/^job.yaml is not a valid job:\n {2}\(body\): Invalid input: expected object/);
  });
});

describe('readJobFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'farm-cli-'));
  const file = (name: string, text: string) => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };

  it('reads YAML, and JSON by its extension', () => {
    expect(readJobFile(file('job.yaml', 'name: nightly\nmodels: [mobilenet_v2]\niterations: 5\n'))).toEqual({ name: 'nightly', models: ['mobilenet_v2'], iterations: 5 });
    expect(readJobFile(file('job.json', '{"name": "nightly", "iterations": 5}'))).toEqual({ name: 'nightly', iterations: 5 });
  });

  it('names a missing file, a directory, an empty file', () => {
    mkdirSync(path.join(dir, 'folder.yaml'));
    expect(failure(() => readJobFile(path.join(dir, 'none.yaml'))).message).toBe(`cannot read the job file ${path.join(dir, 'none.yaml')}: no such file`);
    expect(failure(() => readJobFile(path.join(dir, 'folder.yaml'))).message).toMatch(/it is a directory$/);
    expect(failure(() => readJobFile(file('empty.yaml', ' \n'))).message).toMatch(/is empty$/);
  });

  it('says where YAML and JSON are broken', () => {
    const yaml = failure(() => readJobFile(file('bad.yaml', 'name: x\nmodels: [a\n')));
    expect(yaml.exitCode).toBe(EXIT.badInput);
    expect(yaml.message).toMatch(/is not valid YAML:\n.*at line 3, column 1/);
    expect(failure(() => readJobFile(file('dupe.yml', 'name: a\nname: b\n'))).message).toMatch(/Map keys must be unique/);
    expect(failure(() => readJobFile(file('bad.json', '{"name": }'))).message).toMatch(/^the job file .*bad.json is not valid JSON: Unexpected token/);
  });
});
