// The fake remoteproc driver in the lab guest: load it with processors, read its oracle, unload it.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { ProcessorSpec } from '../../actors/kernel/KernelTwin.js';
import type { KernelDocument } from '../../actors/kernel/kernelDocument.js';
import { moduleParams } from '../../lab/guest/moduleParams.js';

/** Set by the lab runner (lab/protocol.ts `LabCommand`): these tests run inside the guest. */
export const inGuest = process.env.RPROC_LAB_GUEST === '1';
const MODULE = process.env.RPROC_LAB_MODULE ?? '';
const FIRMWARE = process.env.RPROC_LAB_FIRMWARE ?? '/run/lab-fw';

/** `uname -r` of the guest. */
export const release = (): string => execFileSync('uname', ['-r']).toString().trim();

/** insmod rproc_fake with `processors` (their firmware files written first); their `remoteprocN`s. */
export function loadFake(processors: ProcessorSpec[]): string[] {
  mkdirSync(FIRMWARE, { recursive: true });
  for (const p of processors) writeFileSync(`${FIRMWARE}/${p.firmware ?? 'rproc-fw.elf'}`, 'lab firmware\n');
  const doc = { processors, ops: [] } as unknown as KernelDocument;
  execFileSync('insmod', [MODULE, ...moduleParams(doc)]);
  return processors.map((_, i) => {
    const dir = `/sys/devices/platform/rproc_fake.${i}/remoteproc`;
    return readdirSync(dir).find((d) => d.startsWith('remoteproc')) as string;
  });
}

/** rmmod rproc_fake (the Oops hazard when a descriptor is still open: docs/abi.md). */
export function unloadFake(): void {
  execFileSync('rmmod', ['rproc_fake']);
}

/** Unbinds processor `i` from the driver (rproc_del through the driver core); the module stays. */
export function unbindFake(i: number): void {
  writeFileSync('/sys/bus/platform/drivers/rproc_fake/unbind', `rproc_fake.${i}`);
}

/** Binds processor `i` to the driver again: a fresh rproc with the same options (lab/driver/README.md). */
export function bindFake(i: number): void {
  writeFileSync('/sys/bus/platform/drivers/rproc_fake/bind', `rproc_fake.${i}`);
}

/** The fake driver's oracle for processor `i`: the kernel's own fields (lab/driver/README.md). */
export function fakeStatus(i: number): { state: string; power: number; flag: number; bound: number } {
  const [state = '?', power = '0', flag = '0', , bound = '0'] = readFileSync(
    `/sys/kernel/debug/rproc_fake/${i}/status`,
    'utf8',
  )
    .trim()
    .split(' ');
  return { state, power: Number(power), flag: Number(flag), bound: Number(bound) };
}

/** The kernel log since boot (an Oops would be in it). */
export const dmesg = (): string => execFileSync('dmesg').toString();
