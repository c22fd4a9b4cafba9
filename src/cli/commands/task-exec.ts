import { randomUUID } from 'node:crypto';
import type { CliIO } from '../command.js';
import { exitCodeOf, parseEnvList, usageError } from '../args.js';
import { exitJson, jsonLine } from '../output.js';
import { taskCommand } from '../task-command.js';
import { pipeLogs } from './task-logs.js';
import type { ExecOpts, ExecProcess } from '../../runtime/task.js';

/** Copies this process' stdin into the exec process, then closes its stdin. */
async function forwardStdin(p: ExecProcess): Promise<void> {
  for await (const chunk of process.stdin) await p.writeStdin(chunk as Uint8Array);
  await p.closeIO();
}

/** Passes SIGINT/SIGTERM received by the CLI on to the exec process; returns the undo function. */
function forwardSignals(p: ExecProcess): () => void {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const h = () => void p.kill(sig).catch(() => undefined);
    process.on(sig, h);
    return () => process.off(sig, h);
  });
  return () => handlers.forEach((off) => off());
}

/** Prints the exec process' output until it exits, with stdin and signals passed on to it. */
async function attach(p: ExecProcess, io: CliIO, stdin: boolean): Promise<void> {
  const undo = forwardSignals(p);
  try {
    const input = stdin ? forwardStdin(p) : Promise.resolve();
    await pipeLogs(p, io, { follow: true, json: false, keepOnInterrupt: true });
    await p.wait();
    // stdin may still be open (the process exited without reading it all); stop reading it.
    if (stdin) process.stdin.destroy();
    await input.catch(() => undefined);
  } finally {
    undo();
  }
}

/** `stasis task exec ID -- CMD`: runs another process in a running task, prints its output, exits with its status. */
export const taskExec = taskCommand({
  verb: 'exec',
  summary: 'run another process inside a running task',
  synopsis: 'task exec [options] ID -- COMMAND [ARG...]',
  about: `Starts COMMAND inside the task's namespaces and cgroup, prints its output while it runs, then
removes it and exits with its exit status. --exec-id names it (default: a random id).
--stdin copies this command's stdin to it (then closes it). Ctrl-C and SIGTERM are passed on to it.
--detach starts it and prints its id instead; then use task logs/wait/kill/state --exec-id.
--json (without --detach) prints its exit as 'task wait --json' does, after its output.`,
  flags: {
    'exec-id': { type: 'string', value: 'EXEC', help: 'name of the exec process', default: 'a random id' },
    tty: { type: 'boolean', short: 't', help: 'run it on a pty' },
    stdin: { type: 'boolean', short: 'i', help: "copy this command's stdin to it (then close it)" },
    interactive: { type: 'boolean', aliasOf: 'stdin' },
    env: { type: 'string', short: 'e', multiple: true, value: 'K=V', help: 'environment variable' },
    cwd: { type: 'string', short: 'w', value: 'DIR', help: 'working directory inside the task' },
    workdir: { type: 'string', aliasOf: 'cwd' },
    detach: { type: 'boolean', short: 'd', help: 'start it, print its id and leave it running' },
  },
  check(values, rest) {
    if (rest.length === 0) throw usageError('missing the command to run, after --');
    if (values.stdin && values.detach) throw usageError('--stdin and --detach do not go together');
    const opts: ExecOpts = { args: rest, terminal: values.tty ?? false };
    if (values.stdin) opts.stdin = true;
    const env = parseEnvList(values.env);
    if (env.length) opts.env = env;
    if (values.cwd !== undefined) opts.cwd = values.cwd;
    return { opts, execId: values['exec-id'] ?? `exec-${randomUUID().slice(0, 8)}` };
  },
  async act({ id, task, ctx, values, input: { opts, execId } }) {
    const p = await task.exec(execId, opts);
    await p.start();
    if (values.detach) {
      ctx.out(ctx.json ? jsonLine({ id, execId }) : `${execId}\n`);
      return 0;
    }
    await attach(p, ctx.io, values.stdin ?? false);
    const exit = await p.delete();
    if (ctx.json) ctx.out(jsonLine(exitJson(exit)));
    return exitCodeOf(exit.status);
  },
});
