import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { z } from 'zod';
import { getModelSpec, type ModelSpec } from '../lib/specs';
import { modelCacheDir, nsfwjsModelsDir, nsfwjsVersion } from './paths';

/** Bump when the converter's output changes, so existing caches are rebuilt. */
export const CONVERTER_VERSION = 1;

export const MODEL_JSON_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
export const META_FILE = 'meta.json';

const FileFactsSchema = z.object({ file: z.string(), bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/** What the converter records beside the two files; the registry reads it. */
export const CacheMetaSchema = z.object({
  name: z.string(),
  converterVersion: z.number().int(),
  source: z.object({
    package: z.literal('nsfwjs'),
    version: z.string(),
    model: z.string(),
    shards: z.array(z.string()),
  }),
  format: z.enum(['tfjs-layers', 'tfjs-graph']),
  quantization: z.string(),
  modelJson: FileFactsSchema,
  weights: FileFactsSchema,
  convertedAt: z.string(),
});
export type CacheMeta = z.infer<typeof CacheMetaSchema>;

export interface ConvertOptions {
  cacheDir?: string;
  /** Convert even when the cache is fresh. */
  force?: boolean;
}

export interface ConvertResult {
  name: string;
  dir: string;
  meta: CacheMeta;
  /** False when the cache was already fresh. */
  converted: boolean;
  ms: number;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; [key: string]: unknown };
}

const WeightSpecSchema = z
  .object({
    name: z.string(),
    shape: z.array(z.number().int().min(0)),
    dtype: z.string(),
    quantization: z.object({ dtype: z.string() }).passthrough().optional(),
  })
  .passthrough();

const SourceModelJsonSchema = z
  .object({
    modelTopology: z.record(z.string(), z.unknown()),
    weightsManifest: z.array(z.object({ paths: z.array(z.string()).min(1), weights: z.array(WeightSpecSchema) })).min(1),
    format: z.string().optional(),
  })
  .passthrough();
type SourceModelJson = z.infer<typeof SourceModelJsonSchema>;

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function weightBytes(w: WeightSpec): number {
  const dtype = w.quantization?.dtype ?? w.dtype;
  const per = BYTES_PER_ELEMENT[dtype];
  if (per === undefined) throw new Error(`weight ${w.name} has unknown dtype ${dtype}`);
  return w.shape.reduce((a, b) => a * b, 1) * per;
}

/** model.min.js is a UMD bundle of a JS object literal (not JSON): evaluate it in a bare context. */
async function readSourceModelJson(file: string): Promise<SourceModelJson> {
  const code = await fs.readFile(file, 'utf8');
  const mod: { exports: unknown } = { exports: {} };
  vm.runInNewContext(code, { module: mod, exports: mod.exports }, { filename: file, timeout: 10_000 });
  // Round-trip through JSON: objects from another realm trip tfjs's iteration helpers.
  return SourceModelJsonSchema.parse(JSON.parse(JSON.stringify(mod.exports)));
}

/** A shard file wraps one base64 string literal; decode it without running the bundle. */
async function readShard(file: string): Promise<Buffer> {
  const code = await fs.readFile(file, 'utf8');
  const match = /exports\s*=\s*"([A-Za-z0-9+/]*={0,2})"/.exec(code);
  if (!match) throw new Error(`no base64 weight data found in ${path.basename(file)}`);
  return Buffer.from(match[1], 'base64');
}

function checkTopology(spec: ModelSpec, json: SourceModelJson): void {
  const topo = json.modelTopology;
  if (spec.format === 'tfjs-layers') {
    const layersSchema = z.object({
      model_config: z.object({
        config: z.object({
          layers: z
            .array(z.object({ class_name: z.string(), config: z.record(z.string(), z.unknown()) }).passthrough())
            .min(2),
        }),
      }),
    });
    const layers = layersSchema.parse(topo).model_config.config.layers;
    const input = z.array(z.number().nullable()).parse(layers[0].config.batch_input_shape);
    if (input[1] !== spec.inputSize || input[2] !== spec.inputSize || input[3] !== 3) {
      throw new Error(`${spec.name}: input shape ${JSON.stringify(input)} is not ${spec.inputSize}x${spec.inputSize}x3`);
    }
    const last = layers[layers.length - 1];
    if (last.config.activation !== 'softmax') {
      throw new Error(`${spec.name}: last layer ${last.class_name} does not end in softmax; the registry says probabilities`);
    }
    return;
  }
  const nodes = z
    .object({ node: z.array(z.object({ name: z.string(), op: z.string(), input: z.array(z.string()).optional() }).passthrough()) })
    .parse(topo).node;
  const placeholder = z
    .object({ attr: z.object({ shape: z.object({ shape: z.object({ dim: z.array(z.object({ size: z.string() })) }) }) }) })
    .safeParse(nodes.find((n) => n.op === 'Placeholder'));
  const dims = placeholder.success ? placeholder.data.attr.shape.shape.dim.map((d) => Number(d.size)) : null;
  if (!dims || dims[1] !== spec.inputSize || dims[2] !== spec.inputSize || dims[3] !== 3) {
    throw new Error(`${spec.name}: input dims ${JSON.stringify(dims)} are not ${spec.inputSize}x${spec.inputSize}x3`);
  }
  const identity = nodes.find((n) => n.name === 'Identity');
  const feeding = nodes.find((n) => n.name === identity?.input?.[0]);
  if (feeding?.op !== 'Softmax') {
    throw new Error(`${spec.name}: the output is not produced by a Softmax op; the registry says probabilities`);
  }
}

async function readMeta(dir: string): Promise<CacheMeta | null> {
  try {
    return CacheMetaSchema.parse(JSON.parse(await fs.readFile(path.join(dir, META_FILE), 'utf8')));
  } catch {
    return null;
  }
}

async function fileMatches(file: string, facts: { bytes: number; sha256: string }): Promise<boolean> {
  try {
    const data = await fs.readFile(file);
    return data.length === facts.bytes && sha256(data) === facts.sha256;
  } catch {
    return false;
  }
}

/** The cache's metadata when model.json and weights.bin exist and match it; otherwise null. */
export async function readFreshMeta(name: string, cacheDir?: string): Promise<CacheMeta | null> {
  const dir = modelCacheDir(name, cacheDir);
  const meta = await readMeta(dir);
  if (
    !meta ||
    meta.name !== name ||
    meta.converterVersion !== CONVERTER_VERSION ||
    meta.source.version !== nsfwjsVersion() ||
    meta.format !== getModelSpec(name).format
  ) {
    return null;
  }
  const [jsonOk, weightsOk] = await Promise.all([
    fileMatches(path.join(dir, meta.modelJson.file), meta.modelJson),
    fileMatches(path.join(dir, meta.weights.file), meta.weights),
  ]);
  return jsonOk && weightsOk ? meta : null;
}

/** Writes through a temporary name and renames, so a reader never sees half a file. */
async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

/**
 * Converts one bundled nsfwjs model into `<cache>/<name>/model.json` + `weights.bin`:
 * the shards are base64-decoded and joined in manifest order, so the uint8-quantized weights
 * stay exactly as shipped. Skips the work when the cache is fresh (sizes and sha256 match).
 */
export async function ensureConverted(name: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  const started = performance.now();
  const spec = getModelSpec(name);
  const dir = modelCacheDir(name, options.cacheDir);
  if (!options.force) {
    const meta = await readFreshMeta(name, options.cacheDir);
    if (meta) return { name, dir, meta, converted: false, ms: performance.now() - started };
  }

  const sourceDir = path.join(nsfwjsModelsDir(), name);
  const source = await readSourceModelJson(path.join(sourceDir, 'model.min.js'));
  checkTopology(spec, source);

  const shardNames = source.weightsManifest.flatMap((g) => g.paths);
  if (shardNames.length !== spec.sourceShards) {
    throw new Error(`${name}: manifest lists ${shardNames.length} shards, expected ${spec.sourceShards}`);
  }
  const shards = await Promise.all(shardNames.map((p) => readShard(path.join(sourceDir, `${p}.min.js`))));
  const weights = Buffer.concat(shards);
  const weightSpecs: WeightSpec[] = source.weightsManifest.flatMap((g) => g.weights);
  const expected = weightSpecs.reduce((sum, w) => sum + weightBytes(w), 0);
  if (weights.length !== expected) {
    throw new Error(`${name}: shards hold ${weights.length} bytes, the manifest describes ${expected}`);
  }
  const quantization = [...new Set(weightSpecs.map((w) => w.quantization?.dtype ?? w.dtype))].join(',');

  const rest: Record<string, unknown> = { ...source };
  delete rest.weightsManifest;
  const modelJson = JSON.stringify({
    ...rest,
    format: source.format ?? (spec.format === 'tfjs-graph' ? 'graph-model' : 'layers-model'),
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weightSpecs }],
  });

  await fs.mkdir(dir, { recursive: true });
  await writeAtomic(path.join(dir, WEIGHTS_FILE), weights);
  await writeAtomic(path.join(dir, MODEL_JSON_FILE), modelJson);
  const meta: CacheMeta = {
    name,
    converterVersion: CONVERTER_VERSION,
    source: { package: 'nsfwjs', version: nsfwjsVersion(), model: spec.sourceName, shards: shardNames },
    format: spec.format,
    quantization,
    modelJson: { file: MODEL_JSON_FILE, bytes: Buffer.byteLength(modelJson), sha256: sha256(modelJson) },
    weights: { file: WEIGHTS_FILE, bytes: weights.length, sha256: sha256(weights) },
    convertedAt: new Date().toISOString(),
  };
  // meta.json last: its presence with matching hashes is what "fresh" means.
  await writeAtomic(path.join(dir, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
  return { name, dir, meta, converted: true, ms: performance.now() - started };
}
