import { Client } from 'pg';
import { runTokenCommand } from './token';

describe('npm run token', () => {
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runTokenCommand(argv, (line) => out.push(line), (line) => err.push(line));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('creates a token, printing only the token on standard output, then lists and revokes it', async () => {
    const created = await run('create', '--role', 'agent', '--agent', 'rack-7', '--name', 'rack 7');
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/^farm_[A-Za-z0-9_-]{43}$/);
    expect(created.err).toMatch(/^created agent token farm_\S{8}… "rack 7" for agent rack-7 \(id [0-9a-f-]{36}\)$/);
    const prefix = created.out.slice(0, 13);
    const listed = await run('list');
    expect(listed.out).toMatch(new RegExp(`agent\\s+rack-7\\s+${prefix}\\s+rack 7`));
    expect(listed.out).not.toContain(created.out);

    const revoked = await run('revoke', prefix);
    expect([revoked.code, revoked.out]).toEqual([0, expect.stringMatching(/^revoked agent token/)]);
    const db = new Client({ connectionString: process.env['DATABASE_URL'] });
    await db.connect();
    try {
      const { rows } = await db.query<{ revoked: boolean }>('SELECT revoked_at IS NOT NULL AS revoked FROM api_tokens WHERE prefix = $1', [prefix]);
      expect(rows).toEqual([{ revoked: true }]);
    } finally {
      await db.end();
    }
  });

  it.each([
    [['create'], /required option '--role <role>' not specified/],
    [['create', '--role', 'wizard'], /--role: Invalid option: expected one of "admin"\|"operator"\|"viewer"\|"agent"/],
    [['create', '--role', 'agent'], /--agent: is required for an agent token/],
    [['create', '--role', 'viewer', '--agent', 'a'], /--agent: is only for agent tokens/],
    [['create', '--role', 'agent', '--agent', 'no spaces'], /--agent: must be letters, digits/],
    [['create', '--role', 'admin', '--colour', 'red'], /unknown option '--colour'/],
    [['revoke'], /missing required argument 'token'/],
    [['revoke', 'farm_nothing'], /no token has the id or prefix farm_nothing/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('refuses %j with a message and exit code 2', async (argv, message) => {
    const result = await run(...argv);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.out).toBe('');
  });

  it('says when the database cannot be reached, with exit code 1', async () => {
    const saved = process.env['DATABASE_URL'];
    process.env['DATABASE_URL'] = 'postgresql://postgres@127.0.0.1:1/none';
    try {
      const result = await run('list');
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/^token: Cannot reach PostgreSQL at DATABASE_URL=postgresql:\/\/postgres@127\.0\.0\.1:1\/none/);
    } finally {
      process.env['DATABASE_URL'] = saved;
    }
  });
});
