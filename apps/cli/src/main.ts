import { runCli } from './run';

// `npm run farm -- <args>` and `npx farm <args>` start here.
runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('farm: unexpected error:', error);
    process.exitCode = 1;
  },
);
