// Node entry of bench-web: the static server (the page's contract is in @farm/contracts). The page is
// src/page, built by src/build.ts.
export { startBenchWebServer, ISOLATION_HEADERS, type BenchWebServer, type BenchWebServerOptions } from './server';
export { ensureBenchWebBuilt, benchWebInputsHash, type BenchWebBuild } from './build';
