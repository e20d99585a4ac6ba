import { CommanderError } from 'commander';
import { EXIT, explain, type ExitCode } from './exit';
import { buildProgram, type Streams } from './program';

/** Runs `farm` with these arguments (without node and the script) and resolves to its exit code. */
export async function runCli(args: readonly string[], streams: Streams): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  const program = buildProgram(streams, (code) => (exitCode = code));
  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has already said what was wrong with the arguments (or printed the help asked for).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    const { message, exitCode: code } = explain(error, { tokenGiven: Boolean(program.opts<{ token?: string }>().token) });
    streams.stderr.write(`farm: ${message}\n`);
    return code;
  }
}
