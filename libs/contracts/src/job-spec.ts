import { z } from 'zod';
import { BackendSchema, ScenarioSchema } from './vocabulary';

const nonEmptyText = (max: number) => z.string().trim().min(1).max(max);

/** A version constraint on a device's OS version: `13`, `>=13`, `<14.1`, `=12`. */
export const VERSION_CONSTRAINT = /^(>=|<=|>|<|=)?\s*\d+(\.\d+){0,2}$/;

export const DeviceSelectorSchema = z
  .object({
    backend: BackendSchema.optional(),
    manufacturer: nonEmptyText(100).optional(),
    model: nonEmptyText(100).optional(),
    osVersion: z
      .string()
      .trim()
      .regex(VERSION_CONSTRAINT, 'must be a version such as "13" or a constraint such as ">=13"')
      .optional(),
    tags: z.array(nonEmptyText(64)).max(32).optional(),
    ids: z.array(z.uuid()).min(1).max(10000).optional(),
    maxDevices: z.number().int().min(1).max(10000).optional(),
  })
  .strict();
export type DeviceSelector = z.infer<typeof DeviceSelectorSchema>;

/** Model names: bundled ones, or ones registered through the API. */
export const ModelNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'must be a model name such as "mobilenet_v2"');

export const JobSpecSchema = z
  .object({
    name: nonEmptyText(200),
    models: z
      .array(ModelNameSchema)
      .min(1)
      .max(20)
      .refine((m) => new Set(m).size === m.length, 'must not repeat a model'),
    scenarios: z
      .array(ScenarioSchema)
      .min(1)
      .refine((s) => new Set(s).size === s.length, 'must not repeat a scenario'),
    devices: DeviceSelectorSchema.default({}),
    iterations: z.number().int().min(1).max(10000),
    warmup: z.number().int().min(0).max(1000).default(0),
    /** 1 (lowest) to 10 (highest); runs of higher priority start first on a device. */
    priority: z.number().int().min(1).max(10).default(5),
    deadlineMinutes: z.number().int().min(1).max(7 * 24 * 60).default(24 * 60),
    /** A label for the network the devices are on (`wifi`, `lte`, `lan`, ...). */
    network: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/, 'must be a short label such as "wifi"')
      .default('wifi'),
    /** How many attempts an infrastructure failure (agent or driver lost) may take. */
    maxAttempts: z.number().int().min(1).max(10).default(2),
  })
  .strict();
export type JobSpecInput = z.input<typeof JobSpecSchema>;
export type JobSpec = z.output<typeof JobSpecSchema>;
