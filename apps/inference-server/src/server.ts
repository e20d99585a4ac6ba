import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchModelView, MODEL_NAME, RegisteredModelError, type ModelView, type RegisteredModelProblem } from '@farm/contracts';
import {
  checkWeights,
  DEFAULT_MAX_PIXELS,
  fetchModelArtifacts,
  listModels,
  modelFilesHandler,
  runnableSpec,
  type ModelInfo,
  type RunnableSpec,
} from '@farm/models';
import { z } from 'zod';
import { AdmissionGate, GateClosedError } from './admission';
import type { InferenceServerConfig } from './config';
import { CORS_HEADERS, discardBody, errorBody, HttpError, readBody, sendJson } from './http';
import { createLogger, type Logger } from './logger';
import type { ModelLoadReport, ServerTimings } from './protocol';
import { DecodeFailure, WorkerPool } from './worker-pool';

export interface InferenceServerOptions {
  logger?: Logger;
  /** Largest decoded image, in pixels. */
  maxPixels?: number;
  /** How long stop() waits for requests in progress, in ms. */
  drainMs?: number;
}

export interface InferResponse {
  model: string;
  topk: { className: string; probability: number }[];
  /** ms; `server` is the handler's wall time from the body being received to the answer being ready. */
  timings: ServerTimings & { server: number };
}

export interface InferenceServer {
  readonly config: InferenceServerConfig;
  /** Loads the models in the workers, then listens. Resolves with the bound address. */
  start(): Promise<{ port: number; url: string }>;
  /** Stops accepting, lets requests in progress finish (bounded), stops the workers. */
  stop(): Promise<void>;
}

// image/jpg is not registered, but common enough in clients to take.
const RAW_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/png']);
const MULTIPART = 'multipart/form-data';

/** The public view of a loaded model: registry facts, load times, and where to fetch its files. */
function modelView(info: ModelInfo, loads: { loadMs: number; warmupMs: number | null }[]): Record<string, unknown> {
  const facts: Record<string, unknown> = { ...info };
  // Server paths are no business of clients; they get URLs instead.
  delete facts.files;
  return {
    ...facts,
    loadMs: loads[0]?.loadMs ?? null,
    warmupMs: loads[0]?.warmupMs ?? null,
    loadMsByWorker: loads.map((l) => l.loadMs),
    files: { modelJson: `/v1/models/${info.name}/model.json`, weights: `/v1/models/${info.name}/weights.bin` },
  };
}

/** A registered model this server fetched from the API and keeps loaded. */
interface RegisteredEntry {
  spec: RunnableSpec;
  view: ModelView;
  /** Spec, model.json and weights from the API, and the sha256 check (ms). */
  fetchMs: number;
}

function registeredView(entry: RegisteredEntry, loads: (ModelLoadReport | undefined)[]): Record<string, unknown> {
  const { view } = entry;
  return {
    name: view.name,
    registered: true,
    format: view.format,
    inputSize: entry.spec.inputSize,
    output: view.output,
    classNames: view.classNames,
    sizeBytes: view.sizeBytes,
    weightsSha256: view.sha256,
    fetchMs: entry.fetchMs,
    loadMs: loads[0]?.loadMs ?? null,
    warmupMs: loads[0]?.warmupMs ?? null,
    loadMsByWorker: loads.map((l) => l?.loadMs ?? null),
    files: view.files,
  };
}

/** How a registered model the API could not give is answered: whose fault, and which status. */
const REGISTERED_STATUS: Record<RegisteredModelProblem, number> = {
  unknown: 404,
  invalid: 422,
  checksum: 502,
  unreachable: 502,
  timeout: 504,
};

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

export function createInferenceServer(config: InferenceServerConfig, options: InferenceServerOptions = {}): InferenceServer {
  const logger = options.logger ?? createLogger();
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const gate = new AdmissionGate(config.concurrency, config.queue);
  const pool = new WorkerPool(config.concurrency, { models: config.models, maxPixels, ...(config.cacheDir ? { cacheDir: config.cacheDir } : {}) }, logger);
  const infos = new Map<string, ModelInfo>();
  const registered = new Map<string, RegisteredEntry>();
  /** Registered models being fetched and loaded, so concurrent first requests share one fetch. */
  const fetching = new Map<string, Promise<RunnableSpec>>();
  const inProgress = new Set<Promise<void>>();
  let server: Server | null = null;

  const QuerySchema = z.object({
    model: z.string({ error: 'is required' }).min(1, 'is required').regex(MODEL_NAME, 'must be a model name such as "mobilenet_v2"'),
    topk: z.string().regex(/^\d+$/, 'must be a positive integer').transform(Number).pipe(z.number().int().min(1, 'must be at least 1')).optional(),
  });

  /** Fetches a registered model from the API (spec, files, sha256 check) and builds it in every worker. */
  async function fetchRegistered(name: string): Promise<RunnableSpec> {
    const t0 = performance.now();
    const signal = AbortSignal.timeout(config.modelFetchTimeoutMs);
    const view = await fetchModelView(config.apiUrl, name, { signal });
    const spec = runnableSpec(view);
    const artifacts = await fetchModelArtifacts(modelFilesHandler(config.apiUrl, view, { signal }), name);
    await checkWeights(view, artifacts);
    const fetchMs = performance.now() - t0;
    const loads = await pool.load({ spec, artifacts });
    registered.set(name, { spec, view, fetchMs });
    logger.info({ model: name, fetchMs: Math.round(fetchMs), loadMs: loads.map((l) => Math.round(l.loadMs)) }, 'registered model fetched from the API and loaded');
    return spec;
  }

  /** The spec of a model this server runs: bundled and loaded at start, or registered and fetched on first use. */
  async function modelSpec(name: string): Promise<RunnableSpec> {
    const known = infos.get(name) ?? registered.get(name)?.spec;
    if (known) return known;
    let pending = fetching.get(name);
    if (!pending) {
      // A failure is not kept: a model registered later, or an API back up, works on the next request.
      pending = fetchRegistered(name).finally(() => fetching.delete(name));
      fetching.set(name, pending);
    }
    try {
      return await pending;
    } catch (err) {
      if (!(err instanceof RegisteredModelError)) throw err;
      const message =
        err.kind === 'unknown' ? `unknown model "${name}": this server runs ${config.models.join(', ')}, and ${err.message}` : `model "${name}" cannot be run: ${err.message}`;
      throw new HttpError(REGISTERED_STATUS[err.kind], message, [{ path: 'model', message: err.message }]);
    }
  }

  async function infer(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const query = QuerySchema.safeParse({
      model: url.searchParams.get('model') ?? undefined,
      topk: url.searchParams.get('topk') ?? undefined,
    });
    if (!query.success) {
      const details = query.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      throw new HttpError(400, details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
    }
    const type = mediaType(req);
    if (!RAW_TYPES.has(type) && type !== MULTIPART) {
      throw new HttpError(415, `unsupported content type "${type || '(none)'}"`, [
        { path: 'content-type', message: 'must be image/jpeg, image/png, or multipart/form-data with an "image" field' },
      ]);
    }
    // A registered model's first request waits here for its fetch and load, outside `server`.
    const spec = await modelSpec(query.data.model);
    const topk = query.data.topk ?? spec.classNames.length;
    if (topk > spec.classNames.length) {
      throw new HttpError(400, `topk: must be at most ${spec.classNames.length}`, [{ path: 'topk', message: `must be at most ${spec.classNames.length}, the classes of ${spec.name}` }]);
    }
    const body = await readBody(req, config.maxBytes);
    const received = performance.now();

    let image: Uint8Array = body;
    let imagePath = 'body';
    if (type === MULTIPART) {
      imagePath = 'image';
      let form: FormData;
      try {
        form = await new Request('http://localhost/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: new Uint8Array(body) }).formData();
      } catch {
        throw new HttpError(400, 'the multipart body could not be parsed', [{ path: 'body', message: 'must be valid multipart/form-data' }]);
      }
      const field = form.get('image');
      if (!(field instanceof Blob)) {
        throw new HttpError(400, 'the form has no "image" file', [{ path: 'image', message: 'is required (a file field)' }]);
      }
      image = new Uint8Array(await field.arrayBuffer());
    }

    const admitted = gate.tryEnter();
    if (!admitted) {
      throw new HttpError(503, `busy: ${config.concurrency} inferences running and ${config.queue} waiting`, [], { 'Retry-After': '1' });
    }
    await admitted;
    let outcome;
    try {
      outcome = await pool.run({ model: spec.name, topk, image });
    } catch (err) {
      if (err instanceof DecodeFailure) {
        throw new HttpError(400, `the image could not be decoded: ${err.message}`, [{ path: imagePath, message: 'must be a JPEG or PNG image' }]);
      }
      throw err;
    } finally {
      gate.leave();
    }
    const response: InferResponse = {
      model: spec.name,
      topk: outcome.topk,
      timings: { ...outcome.timings, server: performance.now() - received },
    };
    sendJson(res, 200, response);
  }

  function serveModelFile(res: ServerResponse, name: string, file: string, req: IncomingMessage): void {
    const info = infos.get(name);
    if (!info) throw new HttpError(404, `unknown model "${name}"`, [{ path: 'model', message: `must be one of ${config.models.join(', ')}` }]);
    const isJson = file === 'model.json';
    const etag = `"${isJson ? info.modelJsonSha256 : info.weightsSha256}"`;
    const headers = { ...CORS_HEADERS, ETag: etag, 'Cache-Control': 'public, max-age=3600' };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, {
      ...headers,
      'Content-Type': isJson ? 'application/json' : 'application/octet-stream',
      'Content-Length': String(isJson ? info.sizeBytes - info.weightsBytes : info.weightsBytes),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(isJson ? info.files.modelJson : info.files.weights)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        ...CORS_HEADERS,
        'Access-Control-Allow-Methods': 'GET, HEAD, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    const allow = (methods: string): void => {
      if (!methods.split(', ').includes(method)) {
        throw new HttpError(405, `${method} is not allowed on ${url.pathname}`, [{ path: 'method', message: `must be ${methods}` }], { Allow: methods });
      }
    };
    const file = /^\/v1\/models\/([a-z0-9_.-]+)\/(model\.json|weights\.bin)$/.exec(url.pathname);
    if (url.pathname === '/health') {
      allow('GET, HEAD');
      const ready = pool.readyWorkers;
      sendJson(res, ready > 0 ? 200 : 503, {
        status: ready > 0 ? 'ok' : 'unavailable',
        models: [...config.models, ...registered.keys()],
        workers: { ready, total: config.concurrency },
        inFlight: gate.inFlight,
        queued: gate.queued,
      });
    } else if (url.pathname === '/v1/models') {
      allow('GET, HEAD');
      const loads = pool.loadReports;
      sendJson(res, 200, {
        models: [
          ...config.models.map((name) =>
            modelView(infos.get(name) as ModelInfo, loads.map((w) => w.find((l) => l.name === name) ?? { loadMs: NaN, warmupMs: null })),
          ),
          ...[...registered.values()].map((entry) => registeredView(entry, loads.map((w) => w.find((l) => l.name === entry.spec.name)))),
        ],
      });
    } else if (file) {
      allow('GET, HEAD');
      serveModelFile(res, file[1], file[2], req);
    } else if (url.pathname === '/v1/infer') {
      allow('POST');
      await infer(req, res, url);
    } else {
      throw new HttpError(404, `no route ${url.pathname}`, [{ path: 'url', message: 'must be /health, /v1/models or /v1/infer' }]);
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const done = route(req, res)
      .catch((err: unknown) => {
        let httpError: HttpError;
        if (err instanceof HttpError) httpError = err;
        else if (err instanceof GateClosedError) httpError = new HttpError(503, 'the server is stopping', [], { 'Retry-After': '1' });
        else {
          logger.error({ error: err instanceof Error ? (err.stack ?? err.message) : String(err), url: req.url }, 'request failed');
          httpError = new HttpError(500, 'internal error');
        }
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const unread = !req.readableEnded;
        sendJson(res, httpError.statusCode, errorBody(httpError), { ...httpError.headers, ...(unread ? { Connection: 'close' } : {}) });
        if (unread) discardBody(req, config.maxBytes * 2);
      })
      .finally(() => inProgress.delete(done));
    inProgress.add(done);
  }

  return {
    config,
    async start() {
      if (server) throw new Error('the inference server is already started');
      const started = performance.now();
      for (const info of await listModels(config.models, config.cacheDir ? { cacheDir: config.cacheDir } : {})) infos.set(info.name, info);
      try {
        await pool.start();
      } catch (err) {
        await pool.stop();
        throw err;
      }
      const s = createServer((req, res) => handle(req, res));
      s.keepAliveTimeout = 5000;
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(config.port, config.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const { port } = s.address() as AddressInfo;
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      logger.info({ port, models: config.models, concurrency: config.concurrency, queue: config.queue, maxBytes: config.maxBytes, startMs: Math.round(performance.now() - started) }, 'inference server listening');
      return { port, url };
    },
    async stop() {
      gate.close();
      const s = server;
      server = null;
      const closed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
      s?.closeIdleConnections();
      const drain = Promise.all([...inProgress]);
      await Promise.race([drain, new Promise((resolve) => setTimeout(resolve, options.drainMs ?? 10_000).unref())]);
      s?.closeAllConnections();
      await closed;
      await pool.stop();
    },
  };
}

/** Creates and starts a server in this process. */
export async function startInferenceServer(
  config: InferenceServerConfig,
  options: InferenceServerOptions = {},
): Promise<InferenceServer & { port: number; url: string }> {
  const server = createInferenceServer(config, options);
  const address = await server.start();
  return Object.assign(server, address);
}
