#!/usr/bin/env node
// A small service that embeds the supervisor: it holds the DSP while it works, hears about crashes,
// and lets go when it ends. Run: `node examples/embedded-service.mjs` (the in-process kernel twin), or
// `node examples/embedded-service.mjs --driver cdev` on a board with /dev/remoteproc0 (as root).
import { createCdevDriver, createSimDriver, createSupervisor } from 'rproc-supervisor/node';

const real =
  process.argv.includes('--driver') && process.argv[process.argv.indexOf('--driver') + 1] === 'cdev';
const driver = real
  ? createCdevDriver()
  : createSimDriver({ processors: [{ name: 'adsp', bootMs: 200, stopMs: 100 }] });
const supervisor = await createSupervisor({
  driver,
  strategy: 'hybrid',
  pollMs: 50,
  log: (e) => console.error(`[supervisor] ${e.msg}`),
});
const [first] = await driver.list();

// In TypeScript (or a runtime with explicit resource management): `await using lease = …`.
const lease = await supervisor.acquire(first.device, { client: 'audio-service' });
try {
  lease.on('processor.crashed', () =>
    console.log(`${first.name} crashed: rpmsg channels are gone; reopen them after recovery`),
  );
  lease.on('processor.recovered', () => console.log(`${first.name} is back`));
  await new Promise((r) => setTimeout(r, 500));
  console.log('status:', JSON.stringify(supervisor.status().processors[0]));
  if (!real) driver.twin.crash(0, 'watchdog'); // the twin lets us show a crash
  await new Promise((r) => setTimeout(r, 1000));
} finally {
  await lease[Symbol.asyncDispose](); // the lease ends here: the processor stops
}

await supervisor.close();
console.log('done: the processor is', (await driver.state(first.device)).value);
