// kernelDocument: the public JSON format of `rproc-supervisor kernel run` (docs/kernel-run.md), parsed and checked.

import { z } from 'zod';
import { invalid, type Result } from '../../machines/errno.js';
import {
  DEFAULT_PROFILE,
  KERNEL_VALUES,
  type KernelProfile,
  parseKernel,
  profileFeatures,
} from '../../machines/profile.js';
import { CRASH_TYPES } from '../../machines/rprocTypes.js';
import { ioctlRequestNumber } from './cdevCommand.js';
import { deviceIndex } from './Processor.js';
import { formatIssues, formatPath, processorSchema } from './processorSchema.js';
import { SYSFS_ATTRS } from './sysfsAttributes.js';

const rproc = z.string().min(1);
const fd = z.string().min(1);
const pid = z.number().int().nonnegative();
/** `wait: false` issues the operation and goes on without waiting for it to return. */
const wait = z.boolean().optional();
const op = <T extends string, S extends z.ZodRawShape>(name: T, shape: S) =>
  z.strictObject({ op: z.literal(name), wait, ...shape });

/** Every operation of a `kernel run` document. */
export const kernelOpSchema = z.discriminatedUnion('op', [
  op('sysfs.read', { rproc, attr: z.enum(SYSFS_ATTRS) }),
  op('sysfs.write', { rproc, attr: z.enum(SYSFS_ATTRS), value: z.string() }),
  op('cdev.open', { rproc, pid, fd, mode: z.enum(['rw', 'r']).optional() }),
  op('cdev.write', { fd, value: z.string(), pid: pid.optional() }),
  op('cdev.read', { fd, pid: pid.optional() }),
  op('cdev.ioctl', {
    fd,
    request: z.union([z.string(), z.number().int()]),
    value: z.number().int().optional(),
    pid: pid.optional(),
  }),
  op('cdev.close', { fd, pid: pid.optional() }),
  op('fork', { pid, child: pid }),
  op('kill', { pid }),
  op('crash', { rproc, reason: z.enum([...CRASH_TYPES, 'unknown']).optional() }),
  op('advance', { ms: z.number().int().nonnegative() }),
  op('unbind', { rproc }),
  op('unload', {}),
  op('power', { rproc }),
  op('coredump.discard', { rproc }),
  op('suspend', { rproc }),
  op('resume', { rproc }),
]);

/** One operation. */
export type KernelOp = z.infer<typeof kernelOpSchema>;

/** A `kernel run` document. */
export const kernelDocumentSchema = z.strictObject({
  /** A profile name or a release string (`6.1.192`, `6.12.117-amd64`), see `parseKernel`. */
  kernel: z
    .string()
    .refine((v) => parseKernel(v) !== undefined, {
      message: `expected ${KERNEL_VALUES}`,
    })
    .optional(),
  description: z.string().optional(),
  processors: z.array(processorSchema).min(1),
  ops: z.array(kernelOpSchema),
});

/** A parsed `kernel run` document. */
export type KernelDocument = z.infer<typeof kernelDocumentSchema>;

/**
 * The bounds of a `kernel run` document (docs/kernel-run.md, Bounds): past one, the document is EINVAL
 * and nothing runs.
 */
export const KERNEL_DOCUMENT_BOUNDS = Object.freeze({
  processors: 1024,
  /** Operations. */
  ops: 100_000,
  /** Virtual time, in ms: the sum of every `advance` (one day). */
  horizonMs: 86_400_000,
});

/** One issue per bound of {@link KERNEL_DOCUMENT_BOUNDS} the document passes. */
function boundIssues(doc: KernelDocument): string[] {
  const b = KERNEL_DOCUMENT_BOUNDS;
  const errors: string[] = [];
  if (doc.processors.length > b.processors)
    errors.push(`processors: ${doc.processors.length} processors; at most ${b.processors}`);
  if (doc.ops.length > b.ops) errors.push(`ops: ${doc.ops.length} operations; at most ${b.ops}`);
  const advanced = doc.ops.reduce((t, o) => t + (o.op === 'advance' ? o.ms : 0), 0);
  if (advanced > b.horizonMs)
    errors.push(`ops: the advances add up to ${advanced} ms of virtual time; at most ${b.horizonMs}`);
  return errors;
}

/** Checks what the schema cannot: names, references to processors and fds, ioctl names, profile features. */
function crossCheck(doc: KernelDocument, profile: KernelProfile): string[] {
  const errors: string[] = [];
  const names = new Set<string>();
  doc.processors.forEach((p, i) => {
    if (names.has(p.name)) errors.push(`processors[${i}].name: duplicate name "${p.name}"`);
    names.add(p.name);
    if (p.attachOnRecovery && !profileFeatures(profile).attachOnRecovery) {
      errors.push(
        `processors[${i}].attachOnRecovery: needs kernel 5.19 or later (RPROC_FEAT_ATTACH_ON_RECOVERY is a v6.1-era feature)`,
      );
    }
  });
  const known = (ref: string) => names.has(ref) || (deviceIndex(ref) ?? Infinity) < doc.processors.length;
  const fds = new Set<string>();
  doc.ops.forEach((o, i) => {
    const at = (field: string) => formatPath(['ops', i, field]);
    if ('rproc' in o && !known(o.rproc)) {
      errors.push(
        `${at('rproc')}: unknown processor "${o.rproc}" (known: ${[...names].join(', ')}, remoteproc0…${doc.processors.length - 1})`,
      );
    }
    if (o.op === 'cdev.open') fds.add(o.fd);
    else if ('fd' in o && !fds.has(o.fd))
      errors.push(`${at('fd')}: unknown fd "${o.fd}" (no earlier cdev.open names it)`);
    if (
      o.op === 'cdev.ioctl' &&
      typeof o.request === 'string' &&
      ioctlRequestNumber(o.request) === undefined
    ) {
      errors.push(
        `${at('request')}: unknown ioctl "${o.request}" (use RPROC_SET_SHUTDOWN_ON_RELEASE, RPROC_GET_SHUTDOWN_ON_RELEASE or a number)`,
      );
    }
  });
  return errors;
}

/**
 * Parses and checks a `kernel run` document. `profile` (the `--kernel` flag) overrides the document's
 * `kernel`. A malformed document fails with errno data (EINVAL, op `kernel run`) whose `issues` name
 * the operation's index and the field: `ops[3].fd: unknown fd "b" …`.
 */
export function parseKernelDocument(
  input: unknown,
  profile?: KernelProfile,
): Result<{ doc: KernelDocument; profile: KernelProfile }> {
  const parsed = kernelDocumentSchema.safeParse(input);
  if (!parsed.success) return invalid('kernel run', formatIssues(parsed.error));
  const bounds = boundIssues(parsed.data);
  if (bounds.length) return invalid('kernel run', bounds);
  const effective = profile ?? parseKernel(parsed.data.kernel ?? DEFAULT_PROFILE) ?? DEFAULT_PROFILE;
  const errors = crossCheck(parsed.data, effective);
  if (errors.length) return invalid('kernel run', errors);
  return { ok: true, value: { doc: parsed.data, profile: effective } };
}
