import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { imageInputSize, MODEL_OUTPUT_KINDS, ModelOutputKindSchema, zodDetails, type ApiError, type ModelOutputKind } from '@farm/contracts';
import { z } from 'zod';
import { InvalidInput, Unprocessable } from '../common/errors';

type Detail = ApiError['details'][number];

export type RegisteredFormat = 'tfjs-layers' | 'tfjs-graph';

export interface UploadedFile {
  name: string;
  bytes: Buffer;
}

/** What a checked upload is: everything stored about it. */
export interface CheckedModel {
  format: RegisteredFormat;
  sizeBytes: number;
  sha256: string;
  inputShape: number[];
  outputSize: number;
  output: ModelOutputKind;
  classNames: string[];
  files: UploadedFile[];
}

/** A file name a device can ask for as one URL segment. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const WeightSpecSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().min(0)),
  dtype: z.enum(['float32', 'int32', 'bool', 'string', 'complex64']),
  quantization: z.object({ dtype: z.enum(['uint8', 'uint16', 'float16']) }).loose().optional(),
}).loose();

const ModelJsonSchema = z
  .object({
    format: z.string().optional(),
    modelTopology: z.record(z.string(), z.unknown()),
    weightsManifest: z.array(
      z.object({ paths: z.array(z.string().regex(FILE_NAME, 'must be a plain file name')).min(1), weights: z.array(WeightSpecSchema) }),
    ),
  })
  .loose();
type ModelJson = z.output<typeof ModelJsonSchema>;

const ClassNamesSchema = z.array(z.string().min(1).max(200)).min(1).max(100_000);

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Parses the optional classNames form field: a JSON array of strings. */
export function parseClassNames(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidInput([{ path: 'classNames', message: 'must be a JSON array of strings' }]);
  }
  const parsed = ClassNamesSchema.safeParse(value);
  if (!parsed.success) throw new InvalidInput(zodDetails(parsed.error).map((d) => ({ ...d, path: d.path === '(body)' ? 'classNames' : `classNames${d.path.startsWith('[') ? '' : '.'}${d.path}` })));
  return parsed.data;
}

/** Parses the optional output form field: `probabilities` or `logits`. */
export function parseOutput(raw: unknown): ModelOutputKind | undefined {
  if (raw === undefined) return undefined;
  const parsed = ModelOutputKindSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidInput([{ path: 'output', message: `must be one of ${MODEL_OUTPUT_KINDS.join(', ')}` }]);
  return parsed.data;
}

/** How far the sum of a probability vector may be from 1: float32 softmax rounding, with margin. */
const PROBABILITY_SUM_TOLERANCE = 1e-3;

/** Whether values could be a softmax's output: each in [0, 1], summing to 1. */
export function isProbabilityVector(values: ArrayLike<number>): boolean {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= 1)) return false;
    sum += v;
  }
  return Math.abs(sum - 1) <= PROBABILITY_SUM_TOLERANCE;
}

/**
 * The output kind: as declared, or detected from the forward pass on zeros. A softmax's output
 * is a probability vector for every input, so one that is not proves the model returns logits;
 * one that is proves nothing, and the default (`probabilities`) stands.
 */
export function decideOutput(declared: ModelOutputKind | undefined, zerosOutput: ArrayLike<number>): ModelOutputKind {
  const distribution = isProbabilityVector(zerosOutput);
  if (declared === 'probabilities' && !distribution) {
    throw new Unprocessable(
      [{ path: 'output', message: 'is "probabilities", but a forward pass on zeros gives values that are not probabilities (each in [0, 1], summing to 1): declare "logits"' }],
      'The model does not output probabilities',
    );
  }
  return declared ?? (distribution ? 'probabilities' : 'logits');
}

/**
 * The request's shape: model.json present and parseable, and exactly the weight files it names.
 * Anything wrong here is the client's malformed request (400).
 */
export function checkFiles(files: readonly UploadedFile[]): { json: ModelJson; weights: UploadedFile[][] } {
  const details: Detail[] = [];
  const byName = new Map<string, UploadedFile>();
  files.forEach((file, i) => {
    if (!FILE_NAME.test(file.name)) details.push({ path: `files[${i}]`, message: `"${file.name}" is not a plain file name` });
    else if (byName.has(file.name)) details.push({ path: `files.${file.name}`, message: 'is uploaded twice' });
    else byName.set(file.name, file);
  });
  if (details.length > 0) throw new InvalidInput(details);

  const modelJsonFile = byName.get('model.json');
  if (!modelJsonFile) throw new InvalidInput([{ path: 'files.model.json', message: 'model.json is missing' }]);
  let raw: unknown;
  try {
    raw = JSON.parse(modelJsonFile.bytes.toString('utf8'));
  } catch (error) {
    throw new InvalidInput([{ path: 'files.model.json', message: `is not JSON: ${(error as Error).message}` }]);
  }
  const parsed = ModelJsonSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInput(zodDetails(parsed.error).map((d) => ({ ...d, path: d.path === '(body)' ? 'files.model.json' : `files.model.json.${d.path}` })));
  }

  const named = new Set<string>();
  const weights = parsed.data.weightsManifest.map((group, g) =>
    group.paths.flatMap((p, i) => {
      named.add(p);
      const file = byName.get(p);
      if (!file) details.push({ path: `files.${p}`, message: `weight file named by weightsManifest[${g}].paths[${i}] is missing` });
      return file ? [file] : [];
    }),
  );
  for (const name of byName.keys()) {
    if (name !== 'model.json' && !named.has(name)) details.push({ path: `files.${name}`, message: 'is not named by model.json' });
  }
  if (details.length > 0) throw new InvalidInput(details);
  return { json: parsed.data, weights };
}

/** Weight bytes must be exactly what the manifest's shapes and (quantized) dtypes describe. */
function checkWeightSizes(json: ModelJson, weights: readonly UploadedFile[][]): void {
  const details: Detail[] = [];
  json.weightsManifest.forEach((group, g) => {
    let expected = 0;
    for (const spec of group.weights) {
      if (spec.dtype === 'string') {
        details.push({ path: `files.model.json.weightsManifest[${g}]`, message: `weight "${spec.name}" is a string tensor, which is not supported` });
        return;
      }
      const elements = spec.shape.reduce((a, b) => a * b, 1);
      expected += elements * (BYTES_PER_ELEMENT[spec.quantization?.dtype ?? spec.dtype] ?? 4);
    }
    const actual = weights[g]?.reduce((sum, f) => sum + f.bytes.length, 0) ?? 0;
    if (actual !== expected) {
      details.push({
        path: `files.${group.paths.join('+')}`,
        message: `weightsManifest[${g}] describes ${expected} bytes of weights, the files hold ${actual}`,
      });
    }
  });
  if (details.length > 0) throw new Unprocessable(details, 'The weights do not match model.json');
}

let backendReady: Promise<void> | null = null;

function cpuBackend(): Promise<void> {
  backendReady ??= (async () => {
    if (!(await tf.setBackend('cpu'))) throw new Error('the tfjs cpu backend failed to initialise');
    await tf.ready();
  })();
  return backendReady;
}

function detectFormat(json: ModelJson): RegisteredFormat {
  if (json.format === 'graph-model') return 'tfjs-graph';
  if (json.format === 'layers-model') return 'tfjs-layers';
  return 'node' in json.modelTopology ? 'tfjs-graph' : 'tfjs-layers';
}

/** Loads the model on the CPU backend and runs one forward pass on zeros; 422 when either fails. */
async function checkForwardPass(json: ModelJson, weights: readonly UploadedFile[][], format: RegisteredFormat) {
  await cpuBackend();
  const weightData = new Uint8Array(Buffer.concat(weights.flat().map((f) => f.bytes))).buffer;
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    format: json.format,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData,
  };
  const fail = (message: string): never => {
    throw new Unprocessable([{ path: 'files.model.json', message }], 'The model cannot be used');
  };

  let model: tf.LayersModel | tf.GraphModel;
  try {
    model = format === 'tfjs-graph' ? await tf.loadGraphModel(tf.io.fromMemory(artifacts)) : await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    return fail(`the ${format} model does not load: ${(error as Error).message}`);
  }
  try {
    const inputs = model.inputs;
    if (inputs.length !== 1) return fail(`the model has ${inputs.length} inputs; exactly one is supported`);
    const input = inputs[0];
    const rawShape = input.shape ?? [];
    const shape = rawShape.map((d, i) => (i === 0 && (d === null || d === -1) ? 1 : d));
    const inputShape = shape as number[];
    if (shape.some((d) => d === null) || imageInputSize(inputShape) === null || input.dtype !== 'float32') {
      return fail(`the input is [${rawShape.map(String).join(', ')}] ${input.dtype}; devices feed a square RGB image, a float32 [1, S, S, 3]`);
    }
    let outputShape: number[] = [];
    let zerosOutput = new Float32Array(0);
    try {
      tf.tidy(() => {
        const output = model.predict(tf.zeros(inputShape, input.dtype));
        if (!(output instanceof tf.Tensor)) throw new Error('the forward pass gives several outputs; one [1, k] output is expected');
        outputShape = output.shape;
        zerosOutput = Float32Array.from(output.dataSync());
      });
    } catch (error) {
      return fail(`a forward pass on zeros of shape [${inputShape.join(', ')}] fails: ${(error as Error).message}`);
    }
    if (outputShape.length !== 2 || outputShape[0] !== 1 || !(outputShape[1] >= 1)) {
      return fail(`a forward pass gives an output of shape [${outputShape.join(', ')}]; [1, k] is expected`);
    }
    return { inputShape, outputSize: outputShape[1], zerosOutput };
  } finally {
    model.dispose();
  }
}

/** Every check of an upload, cheapest first; throws 400 or 422 naming what is wrong. */
export async function checkModel(files: readonly UploadedFile[], classNames: string[] | undefined, declaredOutput?: ModelOutputKind): Promise<CheckedModel> {
  const { json, weights } = checkFiles(files);
  checkWeightSizes(json, weights);
  const format = detectFormat(json);
  const { inputShape, outputSize, zerosOutput } = await checkForwardPass(json, weights, format);
  const output = decideOutput(declaredOutput, zerosOutput);
  if (classNames && classNames.length !== outputSize) {
    throw new Unprocessable(
      [{ path: 'classNames', message: `names ${classNames.length} classes, the model outputs ${outputSize}` }],
      'The class names do not match the model',
    );
  }
  const hash = createHash('sha256');
  for (const file of weights.flat()) hash.update(file.bytes);
  return {
    format,
    sizeBytes: files.reduce((sum, f) => sum + f.bytes.length, 0),
    sha256: hash.digest('hex'),
    inputShape,
    outputSize,
    output,
    classNames: classNames ?? Array.from({ length: outputSize }, (_, i) => `class_${i}`),
    files: [...files],
  };
}
