/**
 * Parses `adb shell getprop`: one `[key]: [value]` per property. A value may be empty, may contain
 * `]`, and may span lines (some builds store newlines, e.g. `persist.sys.boot.reason.history`):
 * a line that does not start a new property continues the value before it.
 */
export function parseGetprop(text: string): Map<string, string> {
  const props = new Map<string, string>();
  let open: { key: string; value: string } | null = null;
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const start = /^\[([^\]]+)\]: \[(.*)$/.exec(line);
    if (start) {
      if (open) throw new Error(`getprop: value of "${open.key}" is not closed before line ${index + 1}`);
      open = { key: start[1], value: start[2] };
    } else if (open) {
      open.value += `\n${line}`;
    } else if (line.trim() !== '') {
      throw new Error(`getprop: line ${index + 1} is not "[key]: [value]": "${line}"`);
    }
    if (open && open.value.endsWith(']')) {
      props.set(open.key, open.value.slice(0, -1));
      open = null;
    }
  }
  if (open) throw new Error(`getprop: value of "${open.key}" is not closed at end of output`);
  if (props.size === 0) throw new Error('getprop: no properties in output');
  return props;
}

/** What the farm records of a phone, from its properties. */
export interface AndroidDeviceInfo {
  manufacturer: string;
  model: string;
  androidVersion: string;
  sdk: number;
  /** ro.soc.model (Android 12+), else ro.board.platform, else ro.hardware. */
  soc: string;
  abi: string;
  fingerprint: string;
}

const SOC_KEYS = ['ro.soc.model', 'ro.board.platform', 'ro.hardware'];

export function deviceInfo(props: Map<string, string>): AndroidDeviceInfo {
  const required = (key: string): string => {
    const value = props.get(key)?.trim();
    if (!value) throw new Error(`getprop: required property ${key} is missing or empty`);
    return value;
  };
  const sdkText = required('ro.build.version.sdk');
  if (!/^\d+$/.test(sdkText)) throw new Error(`getprop: ro.build.version.sdk is not a number: "${sdkText}"`);
  const soc = SOC_KEYS.map((key) => props.get(key)?.trim()).find((value) => value);
  if (!soc) throw new Error(`getprop: no SoC property; looked for ${SOC_KEYS.join(', ')}`);
  return {
    manufacturer: required('ro.product.manufacturer'),
    model: required('ro.product.model'),
    androidVersion: required('ro.build.version.release'),
    sdk: Number(sdkText),
    soc,
    abi: required('ro.product.cpu.abi'),
    fingerprint: required('ro.build.fingerprint'),
  };
}
