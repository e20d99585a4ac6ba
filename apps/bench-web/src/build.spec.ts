import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchWebInputsHash, ensureBenchWebBuilt } from './build';

jest.setTimeout(120_000);

describe('ensureBenchWebBuilt', () => {
  let distDir: string;

  beforeAll(async () => {
    distDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-web-dist-'));
  });
  afterAll(async () => {
    await fs.rm(distDir, { recursive: true, force: true });
  });

  it('builds into an empty dist once, however many ask at once, then finds that build current', async () => {
    const [a, b] = await Promise.all([ensureBenchWebBuilt({ distDir }), ensureBenchWebBuilt({ distDir })]);
    expect(a).toBe(b);
    expect(a.built).toBe(true);
    expect(a.hash).toBe(await benchWebInputsHash());
    expect(path.dirname(a.dir)).toBe(distDir);
    const files = await fs.readdir(a.dir);
    expect(files).toEqual(expect.arrayContaining(['index.html', 'assets', 'build-info.json']));
    // No temporary folder is left behind.
    expect(await fs.readdir(distDir)).toEqual([path.basename(a.dir)]);

    const again = await ensureBenchWebBuilt({ distDir });
    expect(again).toMatchObject({ dir: a.dir, built: false });
  });
});
