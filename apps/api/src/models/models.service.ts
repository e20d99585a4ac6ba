import { promises as fs } from 'node:fs';
import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { BUNDLED_MODELS, imageInputSize, MODEL_NAME, type ModelView } from '@farm/contracts';
import { Prisma, type RegisteredModel } from '@farm/db';
import { getModelInfo, getModelSpec, type ModelInfo } from '@farm/models';
import { InvalidInput } from '../common/errors';
import { PrismaService } from '../prisma/prisma.service';
import { checkModel, parseClassNames, parseOutput, type UploadedFile } from './model-check';

export type { ModelView };

export interface ModelFile {
  bytes: Buffer;
  contentType: string;
  sha256?: string;
}

export interface Registration {
  name: unknown;
  classNames: unknown;
  output: unknown;
  files: UploadedFile[];
}

const BUNDLED = new Set<string>(BUNDLED_MODELS);

@Injectable()
export class ModelsService {
  private readonly logger = new Logger(ModelsService.name);

  constructor(private readonly prisma: PrismaService) {}

  async register(input: Registration): Promise<ModelView> {
    const name = input.name;
    if (typeof name !== 'string' || !MODEL_NAME.test(name)) {
      throw new InvalidInput([{ path: 'name', message: 'must be a model name: a-z, 0-9, "_", "." or "-", starting with a letter or digit, at most 64' }]);
    }
    if (input.classNames !== undefined && typeof input.classNames !== 'string') {
      throw new InvalidInput([{ path: 'classNames', message: 'must be one form field holding a JSON array of strings' }]);
    }
    const classNames = parseClassNames(input.classNames);
    const output = parseOutput(input.output);
    // A bundled name is taken just like a registered one, so the same status answers both.
    if (BUNDLED.has(name)) throw new ConflictException({ message: `the name "${name}" is taken`, details: [{ path: 'name', message: 'is the name of a bundled model' }] });
    await this.requireFree(name);

    const checked = await checkModel(input.files, classNames, output);
    try {
      // One nested write, not an interactive transaction: that one must get a connection within
      // 2 s and finish within 5 s, which a farm busy registering 1,000 devices did not give it.
      const model = await this.prisma.registeredModel.create({
        data: {
          name,
          format: checked.format,
          sizeBytes: checked.sizeBytes,
          sha256: checked.sha256,
          inputShape: checked.inputShape,
          outputSize: checked.outputSize,
          output: checked.output,
          classNames: checked.classNames,
          files: { createMany: { data: checked.files.map((f) => ({ path: f.name, bytes: new Uint8Array(f.bytes) })) } },
        },
      });
      this.logger.log(`registered model ${name} (${checked.format}, ${checked.output}, ${checked.sizeBytes} B)`);
      return toView(model, checked.files.map((f) => ({ path: f.name, sizeBytes: f.bytes.length })));
    } catch (error) {
      // Two uploads of one name at once: the unique index decides.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw taken(name);
      throw error;
    }
  }

  async list(): Promise<ModelView[]> {
    const bundled = await Promise.all(BUNDLED_MODELS.map((name) => this.bundledView(name)));
    const registered = await this.prisma.registeredModel.findMany({ orderBy: { name: 'asc' } });
    const files = await this.fileSizes(registered.map((m) => m.id));
    return [...bundled, ...registered.map((m) => toView(m, files.get(m.id) ?? []))];
  }

  async get(name: string): Promise<ModelView> {
    if (BUNDLED.has(name)) return this.bundledView(name);
    const model = await this.prisma.registeredModel.findUnique({ where: { name } });
    if (!model) throw new NotFoundException(`model ${name} does not exist`);
    const files = await this.fileSizes([model.id]);
    return toView(model, files.get(model.id) ?? []);
  }

  async file(name: string, path: string): Promise<ModelFile> {
    if (BUNDLED.has(name)) {
      const info = await getModelInfo(name);
      const files: Record<string, string> = { 'model.json': info.files.modelJson, 'weights.bin': info.files.weights };
      const file = files[path];
      if (!file) throw new NotFoundException(`model ${name} has no file ${path}`);
      return { bytes: await fs.readFile(file), contentType: contentType(path), sha256: path === 'weights.bin' ? info.weightsSha256 : info.modelJsonSha256 };
    }
    const found = await this.prisma.registeredModelFile.findFirst({ where: { path, model: { name } }, select: { bytes: true } });
    if (!found) throw new NotFoundException(`model ${name} has no file ${path}`);
    return { bytes: Buffer.from(found.bytes), contentType: contentType(path) };
  }

  /** The names among these that are neither bundled nor registered. */
  async unknown(names: readonly string[]): Promise<Set<string>> {
    const candidates = names.filter((n) => !BUNDLED.has(n));
    if (candidates.length === 0) return new Set();
    const found = await this.prisma.registeredModel.findMany({ where: { name: { in: candidates } }, select: { name: true } });
    const known = new Set(found.map((m) => m.name));
    return new Set(candidates.filter((n) => !known.has(n)));
  }

  private async requireFree(name: string): Promise<void> {
    if ((await this.prisma.registeredModel.count({ where: { name } })) > 0) throw taken(name);
  }

  private async bundledView(name: string): Promise<ModelView> {
    const spec = getModelSpec(name);
    let info: ModelInfo | null = null;
    try {
      info = await getModelInfo(name);
    } catch (error) {
      // Without its converted files a bundled model still has a spec worth listing.
      this.logger.warn(`bundled model ${name} has no converted files: ${String(error)}`);
    }
    const base = `/api/models/${name}/files`;
    return {
      name,
      bundled: true,
      format: spec.format,
      version: info?.version ?? null,
      sizeBytes: info?.sizeBytes ?? 0,
      sha256: info?.weightsSha256 ?? '',
      inputShape: [...spec.inputShape],
      inputSize: spec.inputSize,
      output: spec.output,
      outputSize: spec.classNames.length,
      classNames: [...spec.classNames],
      createdAt: null,
      files: info
        ? [
            { path: 'model.json', sizeBytes: info.sizeBytes - info.weightsBytes, url: `${base}/model.json` },
            { path: 'weights.bin', sizeBytes: info.weightsBytes, url: `${base}/weights.bin` },
          ]
        : [],
    };
  }

  private async fileSizes(modelIds: readonly string[]): Promise<Map<string, { path: string; sizeBytes: number }[]>> {
    if (modelIds.length === 0) return new Map();
    // Sizes only: the bytes themselves stay in the database.
    const rows = await this.prisma.$queryRawUnsafe<{ modelId: string; path: string; sizeBytes: number }[]>(
      `SELECT model_id AS "modelId", path, octet_length(bytes)::int AS "sizeBytes"
         FROM registered_model_files WHERE model_id = ANY($1::uuid[]) ORDER BY path`,
      [...modelIds],
    );
    const out = new Map<string, { path: string; sizeBytes: number }[]>();
    for (const { modelId, ...file } of rows) out.set(modelId, [...(out.get(modelId) ?? []), file]);
    return out;
  }
}

function taken(name: string): ConflictException {
  return new ConflictException({ message: `the name "${name}" is taken`, details: [{ path: 'name', message: 'a model of this name is already registered' }] });
}

function contentType(path: string): string {
  return path.endsWith('.json') ? 'application/json' : 'application/octet-stream';
}

function toView(model: RegisteredModel, files: { path: string; sizeBytes: number }[]): ModelView {
  return {
    name: model.name,
    bundled: false,
    format: model.format === 'tfjs-graph' ? 'tfjs-graph' : 'tfjs-layers',
    version: null,
    sizeBytes: model.sizeBytes,
    sha256: model.sha256,
    inputShape: model.inputShape,
    inputSize: imageInputSize(model.inputShape),
    output: model.output === 'logits' ? 'logits' : 'probabilities',
    outputSize: model.outputSize,
    classNames: model.classNames,
    createdAt: model.createdAt.toISOString(),
    files: files.map((f) => ({ ...f, url: `/api/models/${model.name}/files/${f.path}` })),
  };
}
