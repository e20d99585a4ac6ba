import { PreflightError, startStack } from './lib/stack';

/**
 * `npm start`: the API (port 3000 unless PORT says otherwise) and one agent with a simulated
 * fleet, until Ctrl-C.
 */
async function main(): Promise<void> {
  const stack = await startStack({
    port: Number(process.env['PORT'] ?? 3000),
    agents: [{ AGENT_NAME: process.env['AGENT_NAME'] ?? 'local-agent', BACKENDS: process.env['BACKENDS'] ?? 'simulated' }],
  });
  console.log(
    `\nThe farm is up: API ${stack.apiUrl}/api, OpenAPI ${stack.apiUrl}/api/docs, dashboard ${stack.apiUrl}/. Ctrl-C stops it.\n` +
      `An admin token made for this start (sign in to the dashboard with it, or send it as "Authorization: Bearer <token>"):\n\n    ${stack.token}\n`,
  );
  const stop = () => {
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.race([stack.api.exited, ...stack.agents.map((a) => a.exited)]);
  console.error('a farm process exited; stopping the others');
  await stack.stop();
  process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof PreflightError ? error.message : error);
  process.exit(error instanceof PreflightError ? 2 : 1);
});
