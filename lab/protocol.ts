// The lab's job and result files: what the host hands the guest runner, and what the runner writes back.

import type { KernelDocument } from '../actors/kernel/kernelDocument.js';
import type { OpResult, ProcessorFinal } from '../actors/kernel/runKernelDocument.js';

/** One document of a job, with the name results are reported under (a file name). */
export interface LabJobDocument {
  name: string;
  doc: KernelDocument;
}

/** `job.json` in the guest's writable share. */
export interface LabJob {
  /** The fake driver module (a host path, seen at the same path in the guest). */
  module: string;
  /** Where `firmware_class.path` points in the guest (a tmpfs directory). */
  firmwareDir: string;
  /** Every duration of the documents (bootMs, stopMs, attachMs, advance) is multiplied by this. */
  timeScale: number;
  documents: LabJobDocument[];
  /** A program to run in the guest after the documents (the runtime tests: test/labGuest/). */
  command?: LabCommand;
}

/**
 * A program the runner starts in the guest, with the host's Node and this checkout: its output goes to
 * `command.log` and its exit status to `command.json` in the job directory. Its environment also has
 * RPROC_LAB_GUEST=1, RPROC_LAB_MODULE (the fake driver), RPROC_LAB_FIRMWARE (the firmware directory)
 * and RPROC_LAB_OUT (the job directory, writable).
 */
export interface LabCommand {
  /**
   * `argv[0]` is a path; `node` means the Node that runs the runner. `{out}` in an argument becomes the
   * job directory as the guest sees it (what a program writes there, `report.json`, comes back).
   */
  argv: string[];
  cwd: string;
  env?: Record<string, string>;
}

/** `command.json`: how the command of a job ended. */
export interface LabCommandResult {
  code: number | null;
  signal: string | null;
  ms: number;
}

/** One line of `results.jsonl`: a document's results in operation order, or why it could not run. */
export interface LabDocResult {
  name: string;
  /** `uname -r` in the guest. */
  release: string;
  results: OpResult[];
  /** Each processor at the end, as the kernel's own fields say (the fake driver's `status`). */
  final: ProcessorFinal[];
  /** Set when the document could not run to its end on the real kernel. */
  error?: string;
  /** Real milliseconds the document took, loading and unloading the driver included. */
  ms: number;
}

/** A request of the runner to a process agent (one JSON line on its socket). */
export type AgentRequest =
  | { id: number; cmd: 'open'; label: string; path: string; write: boolean }
  | { id: number; cmd: 'write'; label: string; value: string }
  | { id: number; cmd: 'read'; label: string }
  | { id: number; cmd: 'ioctl'; label: string; request: number; value?: number; get: boolean }
  | { id: number; cmd: 'close'; label: string }
  | { id: number; cmd: 'fork'; child: number }
  /** Close every descriptor (a document's end), so the agent can serve the next document. */
  | { id: number; cmd: 'closeAll' };

/** An agent's answer; `value` for reads, GET ioctls and forks (the child's real pid). */
export interface AgentReply {
  id: number;
  ok: boolean;
  errno?: string;
  value?: string | number;
}

/** The first line an agent sends: which document pid it is, and its real pid. */
export interface AgentHello {
  hello: number;
  pid: number;
}
