import { PassThrough } from 'node:stream';
import { EXIT } from './exit';
import { runCli } from './run';

/** Runs the CLI in-process on arguments that never reach the network. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const capture = () => {
    const stream = Object.assign(new PassThrough(), { isTTY: false });
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
  };
  const [stdout, stderr] = [capture(), capture()];
  const code = await runCli(args, { stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('farm arguments', () => {
  it('prints the help, with the exit codes, on stdout and exits 0', async () => {
    const sut = await run('--help');
    expect(sut.code).toBe(EXIT.ok);
    expect(sut.stdout).toContain('Exit codes:');
    expect(sut.stdout).toMatch(/^ {2}3 {2}the job finished, but not every run passed/m);
    expect(sut.stderr).toBe('');
  });

  it('refuses an unknown flag, an unknown command, a missing argument, a bad number and clashing flags as bad input, on stderr', async () => {
    for (const [args, said] of [
      [['submit', '--bogus'], "unknown option '--bogus'"],
      [['launch'], "unknown command 'launch'"],
      [['watch'], "missing required argument 'job'"],
      [['submit', '--iterations', 'ten'], "argument 'ten' is invalid. must be a whole number"],
      [['export', '00000000-0000-4000-8000-000000000000', '--summary', '--phase', 'total'], "cannot be used with option '--summary'"],
      [['export', '00000000-0000-4000-8000-000000000000', '--phase', 'warp'], 'Allowed choices are model_load'],
      [['watch', 'a', 'b'], 'too many arguments'],
    ] as const) {
      const sut = await run(...args);
      expect({ args, code: sut.code, stdout: sut.stdout }).toEqual({ args, code: EXIT.badInput, stdout: '' });
      expect(sut.stderr).toContain(said);
    }
  });

  it('refuses an API address that is not an http URL, and a job id that is not one, before any request', async () => {
    expect(await run('--api', 'localhost:3000', 'agents')).toMatchObject({ code: EXIT.badInput, stderr: expect.stringContaining('must be an http or https URL') });
    expect(await run('--api', 'not a url', 'agents')).toMatchObject({ code: EXIT.badInput, stderr: expect.stringContaining('is not a URL') });
    expect(await run('watch', '42')).toMatchObject({ code: EXIT.badInput, stderr: 'farm: "42" is not a job id (a UUID such as 0b6f5f6e-...)\n' });
  });

  it('refuses a bad job before it is sent', async () => {
    const sut = await run('--api', 'http://127.0.0.1:1', 'submit', '--name', 'x', '--model', 'mobilenet_v2', '--scenario', 'moon', '--iterations', '3');
    expect(sut.code).toBe(EXIT.badInput);
    expect(sut.stderr).toBe('farm: the job given by flags is not a valid job:\n  scenarios[0] (--scenario): Invalid option: expected one of "on_device"|"cloud"\n');
  });
});
