import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The environment variable that moves the converted-model cache elsewhere. */
export const CACHE_DIR_ENV = 'MODELS_CACHE_DIR';

/** Where converted models live: `$MODELS_CACHE_DIR`, else the library's own `cache/` folder. */
export function defaultCacheDir(): string {
  const fromEnv = process.env[CACHE_DIR_ENV];
  return fromEnv ? path.resolve(fromEnv) : path.resolve(__dirname, '..', '..', 'cache');
}

/** The folder of one converted model. */
export function modelCacheDir(name: string, cacheDir: string = defaultCacheDir()): string {
  return path.join(cacheDir, name);
}

/** The library's shipped test images. */
export function testImagesDir(): string {
  return path.resolve(__dirname, '..', '..', 'assets', 'images');
}

function nsfwjsDistDir(): string {
  // The package's exports map hides dist/models, so go through its CommonJS entry point.
  return path.resolve(path.dirname(require.resolve('nsfwjs')), '..');
}

/** nsfwjs's folder of JS-wrapped model files. */
export function nsfwjsModelsDir(): string {
  return path.join(nsfwjsDistDir(), 'models');
}

export function nsfwjsVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(nsfwjsDistDir(), '..', 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('nsfwjs package.json has no version');
  return pkg.version;
}

/** Where the wasm backend's binaries are, for setWasmPaths. */
export function tfjsWasmDistDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}
