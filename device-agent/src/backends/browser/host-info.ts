import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';

export interface HostFacts {
  /** From the firmware (DMI) when the host exposes it. */
  manufacturer: string;
  osName: string;
  /** Numeric, so device selectors such as ">=12" can compare it. */
  osVersion: string;
  kernel: string;
  cpuModel: string;
  cores: number;
  ramMb: number;
}

async function readTrimmed(file: string): Promise<string | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  const trimmed = text?.trim();
  return trimmed ? trimmed : null;
}

/** KEY=value lines of /etc/os-release, quotes removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^["']|["']$/g, '');
  }
  return out;
}

export async function hostFacts(): Promise<HostFacts> {
  const release = parseOsRelease((await readTrimmed('/etc/os-release')) ?? '');
  const kernel = os.release();
  const cpus = os.cpus();
  const numericKernel = /^\d+(\.\d+){0,2}/.exec(kernel)?.[0];
  return {
    manufacturer: ((await readTrimmed('/sys/devices/virtual/dmi/id/sys_vendor')) ?? 'Unknown').slice(0, 100),
    osName: release.PRETTY_NAME ?? `${os.type()} ${kernel}`,
    osVersion: (release.VERSION_ID ?? numericKernel ?? '0').slice(0, 50),
    kernel,
    cpuModel: (cpus[0]?.model.trim() || os.arch()).slice(0, 100),
    cores: cpus.length,
    ramMb: Math.round(os.totalmem() / (1024 * 1024)),
  };
}

/** The dotted version a `--version` flag prints, e.g. "Chromium 156.0.8078.108 built on ...". */
export async function binaryVersion(file: string): Promise<string> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(file, ['--version'], { timeout: 15_000 }, (err, out) => (err ? reject(new Error(`${file} --version failed: ${err.message}`)) : resolve(out)));
  });
  const version = /\d+(\.\d+){1,3}/.exec(stdout)?.[0];
  if (!version) throw new Error(`${file} --version printed no version: ${stdout.trim().slice(0, 200)}`);
  return version;
}
