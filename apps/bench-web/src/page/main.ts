import { parseBenchParams, wantsAutostart, type BenchWebApi } from '@farm/contracts';
import { BenchRunner } from './runner';
import { timerResolution } from './timing';
import { BenchView } from './ui';

declare global {
  interface Window {
    benchWeb?: BenchWebApi;
  }
}

/** Set at build time: the app's version and a hash of what the build was made from. */
declare const __BENCH_WEB_BUILD__: string;

const query = new URLSearchParams(location.search);
const root = document.getElementById('app') ?? document.body;
const view = new BenchView(root, query);
const runner: BenchRunner = new BenchRunner({
  base: new URL('./', location.href),
  version: __BENCH_WEB_BUILD__,
  timerResolutionMs: timerResolution(),
  onUpdate: () => view.update(runner.state(), runner.current()),
});
window.benchWeb = runner;

const input = Object.fromEntries(query);
if (wantsAutostart(input)) {
  const parsed = parseBenchParams(input);
  if (parsed.ok) runner.start(parsed.params).catch(() => undefined);
  else runner.fail(`bad parameters: ${parsed.problems.join('; ')}`);
}
