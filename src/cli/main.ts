#!/usr/bin/env node
/** The `stasis` executable: dispatches to the commands registered in commands/index.ts. */
import fs from 'node:fs';
import { commands } from './commands/index.js';
import { runCli } from './dispatch.js';

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const code = await runCli(commands, process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }, version());
// Exit explicitly: a command may leave watchers or sockets behind (stdout/stderr are synchronous
// for files and pipes on Linux, so nothing printed is lost).
process.exit(code);
