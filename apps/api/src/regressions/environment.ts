/** What a night ran on: each device's build fingerprint, by device model, and each model's sha256. */
export interface NightEnvironment {
  devices: Record<string, { deviceModel: string; fingerprint: string | null }>;
  models: Record<string, string | null>;
}

export interface EnvironmentChange {
  deviceModels: Set<string>;
  models: Set<string>;
  notes: string[];
}

/** What changed from one night to the next: devices rebuilt (a new fingerprint), models replaced (a new sha256). */
export function changes(before: NightEnvironment, after: NightEnvironment): EnvironmentChange {
  const change: EnvironmentChange = { deviceModels: new Set(), models: new Set(), notes: [] };
  for (const [id, device] of Object.entries(after.devices)) {
    const previous = before.devices[id];
    if (previous && previous.fingerprint !== device.fingerprint) {
      change.deviceModels.add(device.deviceModel);
      change.notes.push(`device ${id} (${device.deviceModel}) build fingerprint ${previous.fingerprint ?? 'none'} → ${device.fingerprint ?? 'none'}`);
    }
  }
  for (const [name, sha256] of Object.entries(after.models)) {
    if (name in before.models && before.models[name] !== sha256) {
      change.models.add(name);
      change.notes.push(`model ${name} sha256 ${before.models[name] ?? 'none'} → ${sha256 ?? 'none'}`);
    }
  }
  return change;
}

export function touches(change: EnvironmentChange, series: { deviceModel: string; model: string }): boolean {
  return change.deviceModels.has(series.deviceModel) || change.models.has(series.model);
}
