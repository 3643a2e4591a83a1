// peerLimits: the bounds on each peer of the lease protocol — unsent output, leases, connections, frames, status size.

/**
 * What one peer may cost the daemon (docs/protocol.md, Limits). Every field has a flag of `daemon` and
 * a default; a peer past a bound is refused or closed, never buffered without end.
 */
export interface PeerLimits {
  /** Bytes a connection may leave unread before it is closed (its own leases end as on EOF). `--max-unsent-bytes` */
  maxUnsentBytes: number;
  /** Unsent bytes past which a subscriber is dropped (`subscription.dropped`) instead of buffered (at most a quarter of `maxUnsentBytes`). */
  maxSubscriberBacklog: number;
  /** Leases one connection may hold; one more is refused with EMFILE. `--max-leases-per-peer` */
  maxLeasesPerPeer: number;
  /** Connections one uid may have open; one more gets EUSERS and is closed. `--max-connections-per-uid` */
  maxConnectionsPerUid: number;
  /** A partial frame held this long closes its connection. `--frame-timeout-ms` */
  frameTimeoutMs: number;
  /** Processors in one `status` reply at most (the `limit` a client asks for is capped to it). */
  maxStatusProcessors: number;
  /** Leases listed per processor in one `status` reply; the rest are counted in `leasesOmitted`. */
  maxStatusLeases: number;
}

/** The defaults of {@link PeerLimits}, as docs/protocol.md states them. */
export const DEFAULT_PEER_LIMITS: Readonly<PeerLimits> = Object.freeze({
  maxUnsentBytes: 1024 * 1024,
  maxSubscriberBacklog: 256 * 1024,
  maxLeasesPerPeer: 64,
  maxConnectionsPerUid: 256,
  frameTimeoutMs: 10_000,
  maxStatusProcessors: 64,
  maxStatusLeases: 64,
});

/** Descriptors the daemon keeps for itself (drivers, logs, the inspector) below its descriptor limit. */
export const RESERVED_DESCRIPTORS = 64;

/** {@link DEFAULT_PEER_LIMITS} with `over` applied; the subscriber backlog at most a quarter of the unsent bound. */
export function peerLimits(over: Partial<PeerLimits> = {}): PeerLimits {
  const limits = { ...DEFAULT_PEER_LIMITS, ...over };
  // A subscriber is dropped well before its connection would be closed for not reading.
  if (over.maxSubscriberBacklog === undefined)
    limits.maxSubscriberBacklog = Math.min(
      limits.maxSubscriberBacklog,
      Math.floor(limits.maxUnsentBytes / 4),
    );
  return limits;
}
