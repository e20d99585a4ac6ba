// Node entry of bench-web: the static server and the page's contract. The page itself is
// src/page, built by src/build.ts.
export { startBenchWebServer, ISOLATION_HEADERS, type BenchWebServer, type BenchWebServerOptions } from './server';
export { ensureBenchWebBuilt, benchWebInputsHash, type BenchWebBuild } from './build';
export * from './protocol';
