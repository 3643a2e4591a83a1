// serveProtocol: a lease protocol server on a Unix socket — framing, refusals and connections — for the daemon and the twin's status server.

import { chmod, chown, unlink } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { claimSocket } from './claimSocket.js';
import { DEFAULT_PEER_LIMITS } from './peerLimits.js';
import {
  frame,
  LineSplitter,
  MAX_FRAME,
  parseFrame,
  type Request,
  type RequestId,
  type ServerFrame,
} from './protocol.js';

/** One accepted connection, as its handler sees it. */
export interface ProtocolConnection {
  readonly socket: Socket;
  /**
   * Sends a frame. Replies to everything read in one turn of the event loop leave in one write(2),
   * after all of that turn's reads: a waiting client wakes once for the burst, not once per reply.
   */
  send(body: ServerFrame): void;
  /** Closes the connection once what was sent has been written and the peer has read it (1 s at most). */
  end(): void;
  /** Bytes sent and not yet written to the socket (what the peer has left unread). */
  readonly unsent: number;
}

/** Bounds of {@link serveProtocol} on each connection (docs/protocol.md, Limits). */
export interface ServeLimits {
  /** Past this many unsent bytes a connection is closed (as on EOF: only its own leases end). @default DEFAULT_PEER_LIMITS */
  maxUnsentBytes?: number;
  /** A connection holding a partial frame this long is closed. @default DEFAULT_PEER_LIMITS */
  frameTimeoutMs?: number;
  /** Connections open at once at most; more are closed as they come (`server.maxConnections`). */
  maxConnections?: number;
  /** Why a connection was closed by a bound, or an accept error: for the log. */
  onLimit?: (what: { msg: string; [k: string]: unknown }, socket: Socket | null) => void;
}

/** Who may connect: the socket's mode and group (its owner is this process's uid). */
export interface SocketAccess {
  /** @default 0o660 */
  mode?: number;
  /** The socket's group. @default this process's gid */
  gid?: number;
  /**
   * A listening socket passed by a service manager (socket activation, docs/systemd.md): served as it
   * is — never bound, chmod'ed, chown'ed or unlinked (its unit set its mode and owns its path).
   */
  fd?: number;
}

/** What a server does with one connection. */
export interface ConnectionHandler {
  /** A well-formed request. */
  request(r: Request): void;
  /** A malformed frame, about to be answered with EPROTO and the connection closed. */
  refused?(message: string): void;
  /** The connection is gone, whatever ended it. */
  closed?(): void;
}

/** A listening protocol server. */
export interface ProtocolServer {
  socketPath: string;
  /** Stops accepting, ends every connection, removes the socket. */
  close(): Promise<void>;
}

/**
 * Listens on `socketPath` (mode `access.mode`, 0660 by default, group `access.gid`) for the lease protocol (docs/protocol.md): each connection's
 * lines are parsed and given to the handler `accept` returns for it; a malformed or too long frame
 * gets an EPROTO reply and closes that connection only. `accept` may refuse a peer by ending it and
 * returning null. A stale socket left by a killed server is removed; a live one is an error
 * (EADDRINUSE) naming `owner`.
 */
export async function serveProtocol(
  socketPath: string,
  owner: string,
  accept: (conn: ProtocolConnection) => ConnectionHandler | null,
  limits: ServeLimits = {},
  access: SocketAccess = {},
): Promise<ProtocolServer> {
  const passed = access.fd;
  if (passed === undefined) await claimSocket(socketPath, owner);
  const sockets = new Set<Socket>();
  // Bounded by default: every server of the protocol (the daemon, the twin's status socket) is.
  const maxUnsent = limits.maxUnsentBytes ?? DEFAULT_PEER_LIMITS.maxUnsentBytes;
  const onLimit = limits.onLimit ?? (() => {});

  const serve = (socket: Socket) => {
    sockets.add(socket);
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    let corked = false;
    let over = false;
    const conn: ProtocolConnection = {
      socket,
      get unsent() {
        return socket.writableLength;
      },
      send(body) {
        if (over || socket.destroyed || !socket.writable) return;
        if (!corked) {
          corked = true;
          socket.cork();
          // setImmediate runs after the poll phase: after all of this turn's reads.
          setImmediate(() => {
            corked = false;
            socket.uncork();
          });
        }
        socket.write(frame(body));
        if (socket.writableLength > maxUnsent) {
          // The peer does not read: drop it rather than buffer without end; 'close' ends its leases.
          over = true;
          onLimit(
            { msg: 'peer does not read its replies, closing connection', unsent: socket.writableLength },
            socket,
          );
          socket.destroy();
        }
      },
      end() {
        // Half-close and keep reading (what comes is dropped): the peer reads the last reply and EOF,
        // and its own writes meanwhile do not fail (EPIPE) and discard the reply unread. A peer that does
        // not close is dropped after a second.
        socket.end();
        socket.resume();
        setTimeout(() => socket.destroy(), 1000).unref();
      },
    };
    const handler = accept(conn);
    if (!handler) {
      socket.on('close', () => sockets.delete(socket));
      return;
    }
    let refused = false;
    let frameTimer: NodeJS.Timeout | null = null;
    const refuse = (message: string, id?: RequestId) => {
      // Nothing this connection sent after a refused frame runs, not even the rest of its chunk.
      refused = true;
      splitter.stop();
      if (frameTimer) clearTimeout(frameTimer);
      handler.refused?.(message);
      conn.send({ ...(id !== undefined ? { id } : {}), ok: false, error: { code: 'EPROTO', message } });
      conn.end();
    };
    const splitter = new LineSplitter(
      (line) => {
        const parsed = parseFrame(line);
        if (!parsed.ok) refuse(parsed.error.detail ?? parsed.error.code, parsed.id);
        else handler.request(parsed.value);
      },
      () => refuse(`frame longer than ${MAX_FRAME} bytes`),
    );
    const frameTimeout = limits.frameTimeoutMs ?? DEFAULT_PEER_LIMITS.frameTimeoutMs;
    socket.on('data', (chunk: string) => {
      if (refused || socket.destroyed) return;
      splitter.push(chunk);
      if (frameTimeout === undefined || refused) return;
      // A partial frame must be completed within frameTimeoutMs of its first byte.
      if (splitter.partial === 0) {
        if (frameTimer) clearTimeout(frameTimer);
        frameTimer = null;
      } else
        frameTimer ??= setTimeout(() => {
          frameTimer = null;
          if (splitter.partial > 0) refuse(`partial frame held for more than ${frameTimeout} ms`);
        }, frameTimeout);
    });
    socket.on('close', () => {
      if (frameTimer) clearTimeout(frameTimer);
      sockets.delete(socket);
      handler.closed?.();
    });
  };

  const server = createServer(serve);
  if (limits.maxConnections !== undefined) server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // bind(2) creates the socket under the umask: 0600 until the chmod below, never wider.
    let umask: number | null = null;
    try {
      umask = process.umask(0o177);
    } catch {} // a worker thread cannot set it
    try {
      if (passed !== undefined) server.listen({ fd: passed }, () => resolve());
      else server.listen(socketPath, () => resolve());
    } finally {
      if (umask !== null) process.umask(umask);
    }
  });
  // After listen, an error is an accept's (EMFILE, ENFILE at the descriptor limit): the daemon goes on
  // (libuv has already closed the connection it could not take); it is logged once a second at most.
  let lastAcceptError = 0;
  server.on('error', (err: NodeJS.ErrnoException) => {
    const now = Date.now();
    if (now - lastAcceptError < 1000) return;
    lastAcceptError = now;
    onLimit({ msg: 'cannot accept a connection', error: err.code ?? err.message }, null);
  });
  if (passed === undefined) {
    if (access.gid !== undefined) await chown(socketPath, -1, access.gid);
    await chmod(socketPath, access.mode ?? 0o660);
  }
  return {
    socketPath,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      // A passed socket's path is its unit's: the next instance serves on it.
      if (passed === undefined) await unlink(socketPath).catch(() => {});
    },
  };
}
