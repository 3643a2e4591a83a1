// daemonLimits: the `daemon` flags that bound each peer (docs/protocol.md, Limits), and the descriptor limit.

import { raiseFileLimit } from '../actors/daemon/fileLimit.js';
import { DEFAULT_PEER_LIMITS, type PeerLimits, RESERVED_DESCRIPTORS } from '../actors/daemon/peerLimits.js';

/** The flags, for `commandArgs`. */
export const LIMIT_OPTIONS = {
  'max-leases-per-peer': { type: 'string' },
  'max-connections-per-uid': { type: 'string' },
  'max-unsent-bytes': { type: 'string' },
  'frame-timeout-ms': { type: 'string' },
} as const;

const d = DEFAULT_PEER_LIMITS;
/** Their lines in `daemon --help`. */
export const LIMIT_HELP = `  --max-leases-per-peer N      leases one connection may hold (default ${d.maxLeasesPerPeer}; more: EMFILE)
  --max-connections-per-uid N  connections one uid may have open (default ${d.maxConnectionsPerUid}; more: EAGAIN)
  --max-unsent-bytes N         unread reply bytes past which a connection is closed (default ${d.maxUnsentBytes})
  --frame-timeout-ms MS        a partial frame held this long closes the connection (default ${d.frameTimeoutMs})`;

const FLAGS: Array<[keyof typeof LIMIT_OPTIONS, keyof PeerLimits]> = [
  ['max-leases-per-peer', 'maxLeasesPerPeer'],
  ['max-connections-per-uid', 'maxConnectionsPerUid'],
  ['max-unsent-bytes', 'maxUnsentBytes'],
  ['frame-timeout-ms', 'frameTimeoutMs'],
];

/** The limits the flags in `values` set, or the usage error of a bad one. */
export function limitFlags(
  values: Record<string, unknown>,
): { ok: true; limits: Partial<PeerLimits> } | { ok: false; message: string } {
  const limits: Partial<PeerLimits> = {};
  for (const [flag, key] of FLAGS) {
    const v = values[flag];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0)
      return { ok: false, message: `--${flag}: expected a positive integer` };
    limits[key] = n;
  }
  return { ok: true, limits };
}

/**
 * Raises the soft descriptor limit to the hard one and returns how many connections the daemon then
 * accepts at once: the limit less {@link RESERVED_DESCRIPTORS} for its own files (undefined: no bound
 * known). Past it, a new connection is closed as it comes, so that accept never meets EMFILE.
 */
export function connectionBound(): { maxConnections?: number; nofile?: number } {
  let limit: ReturnType<typeof raiseFileLimit> = null;
  try {
    limit = raiseFileLimit();
  } catch {
    limit = null;
  }
  if (!limit) return {};
  return { maxConnections: Math.max(16, limit.soft - RESERVED_DESCRIPTORS), nofile: limit.soft };
}
