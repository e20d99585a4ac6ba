/**
 * Total RAM in MiB from `cat /proc/meminfo` ("MemTotal:  7782400 kB") or from the
 * "Total RAM:" line of `dumpsys meminfo` ("Total RAM: 7,782,400K (status normal)").
 * Both report kibibytes; the result is rounded down to whole MiB.
 */
export function parseMeminfoTotalMb(text: string): number {
  const proc = /^MemTotal:\s+(\d+)\s*kB\s*$/m.exec(text);
  const dumpsys = /^\s*Total RAM:\s*([\d,]+)K\b/m.exec(text);
  const kib = proc?.[1] ?? dumpsys?.[1].replace(/,/g, '');
  if (kib === undefined) throw new Error('meminfo: no "MemTotal: <n> kB" or "Total RAM: <n>K" line');
  const mib = Math.floor(Number(kib) / 1024);
  if (mib <= 0) throw new Error(`meminfo: total RAM of ${kib} kB is not plausible`);
  return mib;
}
