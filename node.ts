// rproc-supervisor/node: the Node-only entry (the command line and its file I/O). Re-exports only.

export * from './cli/io.js';
export * from './cli/main.js';
