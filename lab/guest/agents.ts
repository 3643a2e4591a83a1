// Agents: the guest runner's real processes, one per document pid, reached over a Unix socket.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { AgentHello, AgentReply, AgentRequest } from '../protocol.js';

/** Distributes the request type over its union, so each member loses its `id`. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Agent {
  pid: number;
  socket: Socket;
  pending: Map<number, (r: AgentReply) => void>;
}

const AGENT = fileURLToPath(new URL('./agent.js', import.meta.url));
/** Labels of pooled agents' hellos, above any document pid the runner hands out. */
const POOL_LABELS = 1_000_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The document's processes: started on first use, forked, killed; dead ones stay dead (ESRCH). */
export class Agents {
  #server: Server;
  #path: string;
  #agents = new Map<number, Agent>();
  #waiting = new Map<number, (a: Agent) => void>();
  #dead = new Set<number>();
  /** Started agents no document pid uses yet: Node takes a second or more to start in the guest. */
  #pool: Agent[] = [];
  #forked = new Set<Agent>();
  #nextSpawn = POOL_LABELS;
  #nextId = 1;

  private constructor(path: string, server: Server) {
    this.#path = path;
    this.#server = server;
  }

  /** Listens on `path` for agents. */
  static async listen(path: string): Promise<Agents> {
    rmSync(path, { force: true });
    const server = createServer();
    const agents = new Agents(path, server);
    server.on('connection', (s) => agents.#accept(s));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return agents;
  }

  #accept(socket: Socket): void {
    let buffered = '';
    let agent: Agent | undefined;
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const msg = JSON.parse(buffered.slice(0, nl)) as AgentHello | AgentReply;
        buffered = buffered.slice(nl + 1);
        if ('hello' in msg) {
          agent = { pid: msg.pid, socket, pending: new Map() };
          // Pool agents get their document pid when taken (agent()); forked ones have theirs.
          if (msg.hello < POOL_LABELS) this.#agents.set(msg.hello, agent);
          this.#waiting.get(msg.hello)?.(agent);
          this.#waiting.delete(msg.hello);
        } else {
          agent?.pending.get(msg.id)?.(msg);
          agent?.pending.delete(msg.id);
        }
      }
    });
    socket.on('error', () => {});
  }

  #arrival(label: number): Promise<Agent> {
    return new Promise((resolve) => this.#waiting.set(label, resolve));
  }

  /** True once `pid` was killed. */
  isDead(pid: number): boolean {
    return this.#dead.has(pid);
  }

  /** True when `pid` has a live agent. */
  has(pid: number): boolean {
    return this.#agents.has(pid);
  }

  #spawn(label: number): Promise<Agent> {
    const arrived = this.#arrival(label);
    const child = spawn(process.execPath, [AGENT, this.#path, String(label)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', () => {});
    return arrived;
  }

  /** The agent of `pid`: a pooled one (with no descriptors), or a new one. */
  async agent(pid: number): Promise<Agent> {
    const known = this.#agents.get(pid);
    if (known) return known;
    const pooled = this.#pool.pop() ?? (await this.#spawn(this.#nextSpawn++));
    this.#agents.set(pid, pooled);
    return pooled;
  }

  /** Fills the pool up to `size` agents, before a document's clock starts. */
  async fill(size: number): Promise<void> {
    const missing = Math.max(0, size - this.#pool.length);
    const fresh = await Promise.all(Array.from({ length: missing }, () => this.#spawn(this.#nextSpawn++)));
    this.#pool.push(...fresh);
  }

  /** Takes pooled agents for `pids` before a document's clock starts. */
  async prestart(pids: Iterable<number>): Promise<void> {
    const list = [...pids];
    await this.fill(list.length);
    for (const p of list) await this.agent(p);
  }

  /** Sends `req` to `pid`'s agent; resolves with its reply. */
  async call(pid: number, req: WithoutId<AgentRequest>): Promise<AgentReply> {
    const agent = await this.agent(pid);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      agent.pending.set(id, resolve);
      agent.socket.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  /** `fork`: `child` starts sharing `parent`'s descriptions; resolves once the child is there. */
  async fork(parent: number, child: number): Promise<AgentReply> {
    const arrived = this.#arrival(child);
    const r = await this.call(parent, { cmd: 'fork', child });
    if (!r.ok) {
      this.#waiting.delete(child);
      return r;
    }
    this.#forked.add(await arrived);
    return r;
  }

  /**
   * SIGKILL `pid`'s agent and wait until the kernel has closed its descriptors: the process is reaped,
   * or a zombie whose threads are all gone (exit_files and the releases come before exit_notify).
   */
  async kill(pid: number): Promise<void> {
    const agent = this.#agents.get(pid);
    this.#agents.delete(pid);
    this.#dead.add(pid);
    if (!agent) return;
    try {
      process.kill(agent.pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 20_000; i++) {
      if (exited(agent.pid)) break;
      await sleep(1);
    }
    agent.socket.destroy();
  }

  /**
   * A document's end: every live agent closes its descriptors (the releases run) and goes back to the
   * pool; forked agents are killed (the pool's agents share no descriptions). Forgets the dead.
   */
  async reset(): Promise<void> {
    const live = [...this.#agents.entries()];
    this.#agents.clear();
    await Promise.all(
      live.map(async ([pid, agent]) => {
        if (this.#forked.has(agent)) {
          this.#agents.set(pid, agent);
          await this.kill(pid);
          return;
        }
        const id = this.#nextId++;
        await new Promise<void>((resolve) => {
          agent.pending.set(id, () => resolve());
          agent.socket.write(`${JSON.stringify({ cmd: 'closeAll', id })}\n`);
        });
        this.#pool.push(agent);
      }),
    );
    this.#forked.clear();
    this.#dead.clear();
  }

  close(): void {
    this.#server.close();
  }
}

function exited(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return (state === 'Z' || state === 'X') && readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}
