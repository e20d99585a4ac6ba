import {
  Body,
  CallHandler,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  NestInterceptor,
  Param,
  PayloadTooLargeException,
  Post,
  Res,
  UploadedFiles,
  UseInterceptors,
} from '@nestjs/common';
import { AnyFilesInterceptor } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { memoryStorage } from 'multer';
import type { Observable } from 'rxjs';
import { MODEL_OUTPUT_KINDS } from '@farm/contracts';
import { ModelsService, type ModelView } from './models.service';
import { Access } from '../auth/access';

/**
 * Lets a cross-origin isolated page (bench-web: COEP require-corp) on another origin fetch a
 * model's spec and files: CORS for its fetch() and tfjs's loader, CORP for any no-cors load.
 */
const CROSS_ORIGIN_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Timing-Allow-Origin': '*',
} as const;

/** Sets CROSS_ORIGIN_HEADERS before the handler runs, so error answers (404) carry them too. */
@Injectable()
class CrossOriginReadable implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse<Response>();
    for (const [header, value] of Object.entries(CROSS_ORIGIN_HEADERS)) response.setHeader(header, value);
    return next.handle();
  }
}

/** An upload's whole body may be at most this large; multer buffers it in memory. */
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;
export const MAX_UPLOAD_FILES = 20;

/** Refuses a declared oversize body before multer starts buffering it. */
@Injectable()
class UploadSizeLimit implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const length = Number(context.switchToHttp().getRequest<Request>().headers['content-length'] ?? 0);
    if (length > MAX_UPLOAD_BYTES) throw new PayloadTooLargeException(`an upload may be at most ${MAX_UPLOAD_BYTES} bytes`);
    return next.handle();
  }
}

@ApiTags('models')
@Controller('models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Post()
  @Access('admin')
  @UseInterceptors(
    UploadSizeLimit,
    AnyFilesInterceptor({
      storage: memoryStorage(),
      limits: { fileSize: MAX_UPLOAD_BYTES, files: MAX_UPLOAD_FILES, fields: 10, fieldSize: 1024 * 1024 },
    }),
  )
  @ApiOperation({ summary: 'Register a TensorFlow.js model: model.json plus the weight files it names, checked by loading it and running it once' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['name', 'files'],
      properties: {
        name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]{0,63}$' },
        classNames: { type: 'string', description: 'JSON array of the class names, in output order' },
        output: {
          type: 'string',
          enum: [...MODEL_OUTPUT_KINDS],
          description: 'What the forward pass returns: probabilities (the graph ends in softmax; the default) or logits (devices apply softmax in postprocess)',
        },
        files: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'model.json and its weight files, by file name' },
      },
    },
  })
  @ApiCreatedResponse({ description: 'The registered model' })
  register(@Body() body: Record<string, unknown> | undefined, @UploadedFiles() files: Express.Multer.File[] | undefined): Promise<ModelView> {
    return this.models.register({
      name: body?.['name'],
      classNames: body?.['classNames'],
      output: body?.['output'],
      files: (files ?? []).map((f) => ({ name: f.originalname, bytes: f.buffer })),
    });
  }

  @Get()
  @Access('read')
  @ApiOperation({ summary: 'Bundled and registered models, with their metadata' })
  list(): Promise<ModelView[]> {
    return this.models.list();
  }

  @Get(':name')
  @Access('public')
  @UseInterceptors(CrossOriginReadable)
  @ApiOperation({ summary: 'One model: the spec a device or the inference server runs it by (input size, output kind, class names, files, sha256)' })
  get(@Param('name') name: string): Promise<ModelView> {
    return this.models.get(name);
  }

  @Get(':name/files/:path')
  @Access('public')
  @UseInterceptors(CrossOriginReadable)
  @ApiOperation({ summary: "A model's model.json or weight file, as tf.loadLayersModel / tf.loadGraphModel fetch it" })
  async file(@Param('name') name: string, @Param('path') path: string, @Res() response: Response): Promise<void> {
    const file = await this.models.file(name, path);
    response.setHeader('content-type', file.contentType);
    if (file.sha256) response.setHeader('etag', `"${file.sha256}"`);
    response.status(200).end(file.bytes);
  }
}
