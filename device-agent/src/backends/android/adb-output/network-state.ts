export type NetworkState = 'wifi' | 'cellular' | 'airplane' | 'ethernet' | 'none';

export interface NetworkStateInput {
  /** Output of `settings get global airplane_mode_on`: "1" on, "0" off. */
  airplaneModeOn: string;
  /** Output of `dumpsys connectivity`; not needed when airplane mode is on. */
  connectivity?: string;
}

const LEGACY_TYPES: Record<string, NetworkState> = { WIFI: 'wifi', MOBILE: 'cellular', ETHERNET: 'ethernet' };
const TRANSPORTS: Record<string, NetworkState> = { WIFI: 'wifi', CELLULAR: 'cellular', ETHERNET: 'ethernet' };

/**
 * The phone's network: airplane when the setting is on; otherwise the transport of
 * `dumpsys connectivity`'s "Active default network: <id>", found on that network's
 * `NetworkAgentInfo{network{<id>} ...}` line, by its `ni{TYPE[...]` legacy type or its
 * `Transports: ...` capability; "none" when there is no default network. A default network that
 * is not listed, or whose transport is none of the above (a VPN, say), is an error: the caller
 * should not label a run with a guess.
 */
export function parseNetworkState(input: NetworkStateInput): NetworkState {
  const airplane = input.airplaneModeOn.trim();
  if (airplane === '1') return 'airplane';
  if (airplane !== '0') throw new Error(`airplane_mode_on must be "0" or "1", got "${airplane}"`);
  if (input.connectivity === undefined) throw new Error('dumpsys connectivity output is needed when airplane mode is off');
  const active = /^Active default network: (\S+)\s*$/m.exec(input.connectivity);
  if (!active) throw new Error('dumpsys connectivity: no "Active default network:" line');
  const id = active[1];
  if (id === 'none' || id === 'null') return 'none';
  const agent = input.connectivity.split(/\r?\n/).find((line) => line.includes(`NetworkAgentInfo{network{${id}}`));
  if (!agent) throw new Error(`dumpsys connectivity: active default network ${id} is not listed under Current Networks`);
  const legacy = /\bni\{([A-Z_]+)\[/.exec(agent)?.[1];
  const transport = /Transports: ([A-Z_|]+)/.exec(agent)?.[1].split('|')[0];
  const state = (legacy && LEGACY_TYPES[legacy]) ?? (transport && TRANSPORTS[transport]);
  if (!state) throw new Error(`dumpsys connectivity: network ${id} has no known transport (type ${legacy ?? '?'}, transports ${transport ?? '?'})`);
  return state;
}
