// serveProtocol: a lease protocol server on a Unix socket — framing, refusals and connections — for the daemon and the twin's status server.

import { chmod, unlink } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { claimSocket } from './claimSocket.js';
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
  /** Closes the connection once what was sent has been written. */
  end(): void;
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
 * Listens on `socketPath` (mode 0660) for the lease protocol (docs/protocol.md): each connection's
 * lines are parsed and given to the handler `accept` returns for it; a malformed or too long frame
 * gets an EPROTO reply and closes that connection only. `accept` may refuse a peer by ending it and
 * returning null. A stale socket left by a killed server is removed; a live one is an error
 * (EADDRINUSE) naming `owner`.
 */
export async function serveProtocol(
  socketPath: string,
  owner: string,
  accept: (conn: ProtocolConnection) => ConnectionHandler | null,
): Promise<ProtocolServer> {
  await claimSocket(socketPath, owner);
  const sockets = new Set<Socket>();

  const serve = (socket: Socket) => {
    sockets.add(socket);
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    let corked = false;
    const conn: ProtocolConnection = {
      socket,
      send(body) {
        if (socket.destroyed || !socket.writable) return;
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
      },
      end() {
        socket.end();
        socket.destroySoon?.();
      },
    };
    const handler = accept(conn);
    if (!handler) {
      socket.on('close', () => sockets.delete(socket));
      return;
    }
    const refuse = (message: string, id?: RequestId) => {
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
    socket.on('data', (chunk: string) => {
      if (!socket.destroyed) splitter.push(chunk);
    });
    socket.on('close', () => {
      sockets.delete(socket);
      handler.closed?.();
    });
  };

  const server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o660);
  return {
    socketPath,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await unlink(socketPath).catch(() => {});
    },
  };
}
