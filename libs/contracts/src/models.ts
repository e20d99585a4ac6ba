// What the API says about a model (GET /api/models/:name), in the shape the page, the inference
// server and the agents read it. Browser-safe: zod only.
import { z } from 'zod';

/** Model names: bundled ones, or ones registered through the API. */
export const MODEL_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export const MODEL_FORMATS = ['tfjs-layers', 'tfjs-graph'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

/**
 * What the forward pass returns. `probabilities`: the graph already ends in a softmax, so
 * postprocessing only ranks. `logits`: postprocessing applies softmax first.
 */
export const MODEL_OUTPUT_KINDS = ['probabilities', 'logits'] as const;
export const ModelOutputKindSchema = z.enum(MODEL_OUTPUT_KINDS);
export type ModelOutputKind = z.infer<typeof ModelOutputKindSchema>;

/** The side of a square RGB input `[1, S, S, 3]`, or null for any other input shape. */
export function imageInputSize(inputShape: readonly number[]): number | null {
  const [batch, height, width, channels] = inputShape;
  return inputShape.length === 4 && batch === 1 && height === width && channels === 3 && Number.isInteger(height) && height > 0 ? height : null;
}

export const ModelFileViewSchema = z.object({
  path: z.string().min(1),
  sizeBytes: z.number().int().min(0),
  /** Relative to the API's root, e.g. `/api/models/x/files/model.json`. */
  url: z.string().min(1),
});
export type ModelFileView = z.infer<typeof ModelFileViewSchema>;

export const ModelViewSchema = z.object({
  name: z.string().regex(MODEL_NAME),
  bundled: z.boolean(),
  format: z.enum(MODEL_FORMATS),
  /** Where a bundled model's weights come from; null for registered ones. */
  version: z.string().nullable(),
  /** model.json + weight files. */
  sizeBytes: z.number().int().min(0),
  /** sha256 of the weight bytes in manifest order. */
  sha256: z.string(),
  inputShape: z.array(z.number().int()),
  /** Side of the square RGB input; null when the input is not `[1, S, S, 3]` (no device runs it). */
  inputSize: z.number().int().positive().nullable(),
  output: ModelOutputKindSchema,
  outputSize: z.number().int().positive(),
  classNames: z.array(z.string()),
  createdAt: z.string().nullable(),
  files: z.array(ModelFileViewSchema),
});
export type ModelView = z.infer<typeof ModelViewSchema>;

// Fetching a registered model's spec from the API (the page, the inference server, the agents).

export type RegisteredModelProblem = 'unknown' | 'unreachable' | 'timeout' | 'invalid' | 'checksum';

/** Why a registered model could not be had from the API; `kind` says whose fault it is. */
export class RegisteredModelError extends Error {
  constructor(
    readonly kind: RegisteredModelProblem,
    message: string,
  ) {
    super(message);
    this.name = 'RegisteredModelError';
  }
}

/** `GET /api/models/:name`, parsed; `unknown` on 404. */
export async function fetchModelView(apiUrl: string, name: string, init: RequestInit = {}): Promise<ModelView> {
  const url = new URL(`/api/models/${encodeURIComponent(name)}`, apiUrl).href;
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { accept: 'application/json' } });
  } catch (error) {
    throw fetchFailure(error, `the API at ${apiUrl} could not be reached`);
  }
  if (response.status === 404) throw new RegisteredModelError('unknown', `the API at ${apiUrl} knows no model "${name}"`);
  if (!response.ok) throw new RegisteredModelError('unreachable', `the API at ${apiUrl} answered ${response.status} for model "${name}"`);
  let parsed;
  try {
    parsed = ModelViewSchema.safeParse(await response.json());
  } catch (error) {
    throw fetchFailure(error, `the API's answer for model "${name}" could not be read`);
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegisteredModelError('invalid', `the API's spec of model "${name}" is not valid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** The side of the model's square input; `invalid` when it is not an image no device can feed. */
export function requireImageInput(view: Pick<ModelView, 'name' | 'inputShape' | 'inputSize'>): number {
  if (view.inputSize === null) {
    throw new RegisteredModelError('invalid', `model "${view.name}" takes input [${view.inputShape.join(', ')}]; devices run models whose input is [1, S, S, 3]`);
  }
  return view.inputSize;
}

/** A fetch that failed or was aborted: `timeout` when an `AbortSignal.timeout` fired. */
export function fetchFailure(error: unknown, what: string): RegisteredModelError {
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  const message = error instanceof Error ? error.message : String(error);
  return new RegisteredModelError(timedOut ? 'timeout' : 'unreachable', `${what}: ${message}`);
}
