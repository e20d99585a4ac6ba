/** One line of `adb devices -l`. `state` is adb's word for the connection (`device` when usable). */
export interface AdbDevice {
  serial: string;
  state: 'device' | 'unauthorized' | 'offline' | (string & {});
  product?: string;
  model?: string;
  device?: string;
  transportId?: number;
}

const HEADER = 'List of devices attached';
const DETAIL = /^(usb|product|model|device|transport_id):(\S*)$/;

/**
 * Parses `adb devices` or `adb devices -l`. Daemon start-up chatter (`* daemon ...`) and blank
 * lines are skipped; lines before the header are rejected, since they mean adb printed an error.
 * A serial is the first word of its line: adb right-pads serials, and some devices report one
 * with a leading space, which is dropped. A state may be several words (`no permissions ...`);
 * it runs up to the first `key:value` detail.
 */
export function parseAdbDevices(text: string): AdbDevice[] {
  const lines = text.split(/\r?\n/);
  const headerAt = lines.findIndex((line) => line.trim() === HEADER);
  if (headerAt < 0) throw new Error(`adb devices: no "${HEADER}" header in output`);
  const before = lines.slice(0, headerAt).find((line) => line.trim() !== '' && !line.startsWith('* '));
  if (before !== undefined) throw new Error(`adb devices: unexpected line before the header: "${before.trim()}"`);
  const body = lines.slice(headerAt + 1);
  return body.filter((line) => line.trim() !== '').map(parseDeviceLine);
}

function parseDeviceLine(line: string): AdbDevice {
  const words = line.trim().split(/\s+/);
  if (words.length < 2) throw new Error(`adb devices: line "${line.trim()}" has a serial but no state`);
  const [serial, ...rest] = words;
  const firstDetail = rest.findIndex((word) => DETAIL.test(word));
  const stateWords = firstDetail < 0 ? rest : rest.slice(0, firstDetail);
  if (stateWords.length === 0) throw new Error(`adb devices: line "${line.trim()}" has no state`);
  const entry: AdbDevice = { serial, state: stateWords.join(' ') };
  for (const word of firstDetail < 0 ? [] : rest.slice(firstDetail)) {
    const match = DETAIL.exec(word);
    if (!match) continue;
    const [, key, value] = match;
    if (key === 'product') entry.product = value;
    else if (key === 'model') entry.model = value;
    else if (key === 'device') entry.device = value;
    else if (key === 'transport_id') entry.transportId = parseTransportId(value, line);
  }
  return entry;
}

function parseTransportId(value: string, line: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`adb devices: transport_id "${value}" is not a number in "${line.trim()}"`);
  return Number(value);
}
