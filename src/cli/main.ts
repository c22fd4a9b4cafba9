#!/usr/bin/env node
/** The `stasis` executable: dispatches to the commands registered in commands/index.ts. */
import fs from 'node:fs';
import { commands } from './commands/index.js';
import { runCli } from './dispatch.js';
import { flushed } from './output.js';

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

// A reader that went away (`stasis task logs ID | head -1`): stop quietly, as other Unix tools do on
// SIGPIPE; the status is 141 (128 + SIGPIPE) like a shell pipeline's.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  });
}

const code = await runCli(commands, process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }, version());
// Everything printed reaches the OS before the process ends (a slow pipe reader gets all of it);
// then exit explicitly: a command may leave watchers or sockets behind.
process.exitCode = code;
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
