import { createReadStream, promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { listModels, testImagesDir, tfjsWasmDistDir, type ModelInfo } from '@farm/models';
import { ensureBenchWebBuilt, type BenchWebBuild } from './build';

export interface BenchWebServerOptions {
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** The converted-model cache; the models library's default when absent. */
  modelsCacheDir?: string;
  /** Where page builds live; default apps/bench-web/dist. */
  distDir?: string;
}

export interface BenchWebServer {
  /** Base URL of the page, ending in `/`. */
  readonly url: string;
  readonly port: number;
  /** The page build being served (its version is what window.benchWeb.version says). */
  readonly build: BenchWebBuild;
  stop(): Promise<void>;
}

/**
 * Cross-origin isolation: performance.now() then steps by 5 µs instead of 100 µs. It would also
 * let tfjs-wasm pick its threaded build, which the page turns off to match the server.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
};

const WASM_FILES = new Set(['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']);

class NotFound extends Error {}

/** Serves one file of a known folder; names were matched against a strict pattern before. */
async function sendFile(req: IncomingMessage, res: ServerResponse, file: string, cache: string): Promise<void> {
  const stat = await fs.stat(file).catch(() => null);
  if (!stat?.isFile()) throw new NotFound();
  res.writeHead(200, {
    ...ISOLATION_HEADERS,
    'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(stat.size),
    'Cache-Control': cache,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    createReadStream(file)
      .on('error', () => {
        res.destroy();
        resolve();
      })
      .on('end', resolve)
      .pipe(res);
  });
}

function sendText(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...ISOLATION_HEADERS, ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-store' });
  res.end(body);
}

/**
 * Serves bench-web: the built page, the converted models (model.json + weights.bin, from the
 * registry), the test images and tfjs's wasm binaries, all same-origin and cross-origin
 * isolated. Builds the page first when no build of the current sources exists.
 */
export async function startBenchWebServer(options: BenchWebServerOptions): Promise<BenchWebServer> {
  const build = await ensureBenchWebBuilt(options.distDir ? { distDir: options.distDir } : {});
  // Resolved once, before listening: the registry checks each cache by hashing it, which must
  // not land inside a page's timed model_load.
  const models = new Map<string, ModelInfo>(
    (await listModels(undefined, options.modelsCacheDir ? { cacheDir: options.modelsCacheDir } : {})).map((m) => [m.name, m]),
  );
  const imagesDir = testImagesDir();
  const wasmDir = tfjsWasmDistDir();
  // The benchmark measures cold fetches: nothing it times may come from an HTTP cache.
  const noStore = 'no-store';

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      sendText(res, 405, `${method} is not allowed\n`, { Allow: 'GET, HEAD' });
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    let m: RegExpExecArray | null;
    if (pathname === '/' || pathname === '/index.html') {
      await sendFile(req, res, path.join(build.dir, 'index.html'), 'no-cache');
    } else if ((m = /^\/assets\/([A-Za-z0-9_.-]+\.(?:js|css))$/.exec(pathname))) {
      // Content-hashed names: a given name never changes.
      await sendFile(req, res, path.join(build.dir, 'assets', m[1]), 'public, max-age=31536000, immutable');
    } else if ((m = /^\/models\/([a-z0-9_]+)\/(model\.json|weights\.bin)$/.exec(pathname))) {
      const info = models.get(m[1]);
      if (!info) throw new NotFound();
      await sendFile(req, res, m[2] === 'model.json' ? info.files.modelJson : info.files.weights, noStore);
    } else if ((m = /^\/images\/([A-Za-z0-9_-][A-Za-z0-9_.-]*\.(?:jpe?g|png|json))$/.exec(pathname))) {
      await sendFile(req, res, path.join(imagesDir, m[1]), noStore);
    } else if ((m = /^\/tfjs-wasm\/([a-z-]+\.wasm)$/.exec(pathname)) && WASM_FILES.has(m[1])) {
      await sendFile(req, res, path.join(wasmDir, m[1]), noStore);
    } else if (pathname === '/health') {
      const body = JSON.stringify({ status: 'ok', version: build.version, models: [...models.keys()] });
      res.writeHead(200, { ...ISOLATION_HEADERS, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-store' });
      res.end(method === 'HEAD' ? undefined : body);
    } else {
      throw new NotFound();
    }
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else if (err instanceof NotFound) sendText(res, 404, 'not found\n');
      else sendText(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/`,
    port,
    build,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
