/**
 * Job control through the CLI (`stasis job <verb> JOB_ID`, each a separate process) against a
 * `stasis serve` child process: every verb, the errors, and a node that hangs (SIGSTOP) or is gone
 * (SIGKILL). Needs `npm run build`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { repoRoot } from '../../../src/pool/pool.js';
import { StasisClient } from '../../../src/queue/client.js';
import type { JobPayloadInput } from '../../../src/queue/job-schema.js';
import { queueName, startTestRedis, stateDir, type TestRedis } from '../queue/harness.js';
import { wipeAll } from './cleanup.js';

const MAIN = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

describeWithHost(['root', 'runc', 'conmon', 'criu', 'redis-server', 'busybox'], 'stasis job <verb> against stasis serve', () => {
  let redis: TestRedis;
  let dir = '';
  let serve: ChildProcess;
  let client: StasisClient;
  const queue = queueName();
  const nodeId = `cli-${randomUUID().slice(0, 6)}`;

  /** Runs `stasis job …` as its own process. */
  async function stasis(args: string[], input?: string): Promise<{ exitCode: number; stdout: string; stderr: string; ms: number }> {
    const t = Date.now();
    // The queue flags go right after the verb: everything after `--` belongs to the command (exec).
    const [verb, ...rest] = args;
    const r = await execa(process.execPath, [MAIN, 'job', verb!, '--redis', redis.url, '-q', queue, ...rest], {
      reject: false,
      timeout: 60_000,
      stripFinalNewline: false,
      env: { STASIS_STATE_DIR: dir },
      ...(input !== undefined ? { input } : {}),
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), ms: Date.now() - t };
  }

  async function json<T>(args: string[]): Promise<T> {
    const r = await stasis([args[0]!, '--json', ...args.slice(1)]);
    if (r.exitCode !== 0) throw new Error(`stasis job ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Starts `stasis serve` as a child process; resolves once it printed its ready line. */
  async function startServe(): Promise<ChildProcess> {
    const child = spawn(process.execPath, [MAIN, 'serve', '--json', '--redis', redis.url, '--queue', queue, '--node-id', nodeId, '--state-dir', dir, '--kill-grace', '500'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
    });
    return child;
  }

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build`);
    redis = await startTestRedis();
    dir = stateDir();
    serve = await startServe();
    client = new StasisClient({ connection: redis.options, queue });
  });

  afterAll(async () => {
    await client?.close();
    if (serve && serve.exitCode === null && serve.signalCode === null) {
      serve.kill('SIGCONT');
      serve.kill('SIGKILL');
      await new Promise((r) => serve.once('exit', r));
    }
    if (dir) await wipeAll(dir);
    await redis?.stop();
  }, 120_000);

  async function running(payload: JobPayloadInput): Promise<string> {
    const id = await client.submit(payload);
    for (let i = 0; i < 600; i++) {
      const p = (await client.status(id)).progress as { status?: string; nodeId?: string } | null;
      if (p?.status === 'running' && p.nodeId) return id;
      await sleep(50);
    }
    throw new Error(`job ${id} did not start`);
  }

  async function finish(id: string): Promise<void> {
    await client.cancel(id);
    await client.wait(id, { timeoutMs: 30_000 });
  }

  it('job pause / ps / resume: ps shows the job frozen, then running again', async () => {
    const id = await running({ command: ['sh', '-c', 'while true; do echo x; sleep 0.1; done'] });
    try {
      const p = await stasis(['pause', id]);
      expect(p).toMatchObject({ exitCode: 0, stdout: `job ${id} paused\n` });
      const ps = await json<{ status: string; processes: { pid: number; info: { comm: string } }[] }>(['ps', id]);
      expect(ps.status).toBe('paused');
      expect(ps.processes.map((x) => x.info.comm)).toContain('sh');
      const human = await stasis(['ps', id]);
      expect(human.stdout).toMatch(new RegExp(`^job ${id}: paused\\nPID`));
      expect(await stasis(['resume', id])).toMatchObject({ exitCode: 0, stdout: `job ${id} running\n` });
      expect((await json<{ status: string }>(['ps', id])).status).toBe('running');
    } finally {
      await finish(id);
    }
  });

  it('job exec prints the output and exits with the status of the command; --json and --stdin', async () => {
    const id = await running({ command: ['sleep', '60'] });
    try {
      const r = await stasis(['exec', id, '--', 'sh', '-c', 'echo out; echo err >&2; exit 4']);
      expect(r).toMatchObject({ exitCode: 4, stdout: 'out\n', stderr: 'err\n' });
      const j = await json<{ exitStatus: number; stdout: string; timedOut: boolean }>(['exec', id, '-e', 'A=b', '--', 'sh', '-c', 'echo $A']);
      expect(j).toMatchObject({ exitStatus: 0, stdout: 'b\n', timedOut: false });
      const cat = await stasis(['exec', id, '-i', '--', 'cat'], 'piped in\n');
      expect(cat).toMatchObject({ exitCode: 0, stdout: 'piped in\n' });
      const slow = await stasis(['exec', id, '--timeout', '0.5', '--', 'sleep', '30']);
      expect(slow.exitCode).toBe(137);
      expect(slow.stderr).toContain('ran past its timeout');
      const usage = await stasis(['exec', id]);
      expect(usage.exitCode).toBe(2);
      expect(usage.stderr).toContain('missing the command to run');
    } finally {
      await finish(id);
    }
  });

  it('job update changes limits and job stats shows them', async () => {
    const id = await running({ command: ['sleep', '60'], limits: { memory: '128m' } });
    try {
      const u = await json<{ memory: { limitBytes: number }; pids: { limit: number } }>(['update', id, '--memory', '64m', '--pids', '20', '--cpus', '0.5']);
      expect(u.memory.limitBytes).toBe(64 << 20);
      expect(u.pids.limit).toBe(20);
      const s = await json<{ memory: { limitBytes: number }; pids: { limit: number; current: number } }>(['stats', id]);
      expect(s.memory.limitBytes).toBe(64 << 20);
      expect(s.pids).toMatchObject({ limit: 20 });
      const human = await stasis(['stats', id]);
      expect(human.exitCode).toBe(0);
      expect(human.stdout).toMatch(/memory/);
      expect((await stasis(['update', id])).exitCode).toBe(2);
    } finally {
      await finish(id);
    }
  });

  it('job kill --signal KILL ends the job with SIGKILL', async () => {
    const id = await running({ command: ['sleep', '60'] });
    const r = await stasis(['kill', id, '--signal', 'KILL']);
    expect(r).toMatchObject({ exitCode: 0, stdout: `sent SIGKILL to job ${id}\n` });
    expect(await client.wait(id, { timeoutMs: 20_000 })).toMatchObject({ signal: 'SIGKILL', exitStatus: 137, reason: 'exited' });
  });

  it('job checkpoint --leave-running stores the image and the job keeps running; without it the node refuses', async () => {
    const id = await running({ command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.2; done'] });
    try {
      const r = await json<{ path: string; store: { seq: number } | null; leaveRunning: boolean }>(['checkpoint', id, '--leave-running']);
      expect(r).toMatchObject({ leaveRunning: true, store: { seq: 1 } });
      expect(r.path).toBe(path.join(dir, 'checkpoints', 'default', `${queue}:${id}`, '00000001'));
      expect(fs.existsSync(path.join(r.path, 'manifest.json'))).toBe(true);
      const image = path.join(dir, `img-${randomUUID().slice(0, 6)}`);
      const human = await stasis(['checkpoint', id, '--leave-running', '--image', image]);
      expect(human.exitCode).toBe(0);
      expect(human.stdout).toContain(`\n${image}\n`);
      expect(fs.existsSync(path.join(image, 'checkpoint.json'))).toBe(true);
      const refused = await stasis(['checkpoint', id]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain('stasis job migrate');
      expect((await json<{ status: string }>(['ps', id])).status).toBe('running');
    } finally {
      await finish(id);
    }
  });

  it('job resize sets the terminal size of a tty job', async () => {
    const id = await running({ command: ['sh', '-c', 'while true; do stty size; sleep 0.2; done'], tty: true });
    try {
      expect(await stasis(['resize', id, '--width', '100', '--height', '30'])).toMatchObject({ exitCode: 0, stdout: `resized job ${id} to 100x30\n` });
      let seen = false;
      for (let i = 0; i < 50 && !seen; i++) {
        for await (const l of client.logs(id)) if (l.trim() === '30 100') seen = true;
        if (!seen) await sleep(100);
      }
      expect(seen).toBe(true);
    } finally {
      await finish(id);
    }
  });

  it('a job that is not running: unknown → exit 1 not found; completed → exit 1 naming its state', async () => {
    const unknown = await stasis(['ps', 'nope-404']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toBe(`stasis: no job nope-404 in queue ${queue}\n`);
    const id = await client.submit({ command: ['true'] });
    await client.wait(id, { timeoutMs: 20_000 });
    const done = await stasis(['pause', id]);
    expect(done.exitCode).toBe(1);
    expect(done.stderr).toBe(`stasis: job ${id} has already completed; only a running job can be controlled\n`);
  });

  it('a hung node (SIGSTOP) gives ERR_UNAVAILABLE after --ack-timeout; a dead one (SIGKILL) at once', async () => {
    const id = await running({ command: ['sleep', '120'] });
    serve.kill('SIGSTOP');
    try {
      const hung = await stasis(['ps', id, '--ack-timeout', '1000']);
      expect(hung.exitCode).toBe(1);
      expect(hung.stderr).toBe(`stasis: node ${nodeId}, which runs job ${id}, did not answer within 1000 ms (is it down or overloaded?)\n`);
      expect(hung.ms).toBeLessThan(15_000);
    } finally {
      serve.kill('SIGCONT');
    }
    expect((await json<{ status: string }>(['ps', id])).status).toBe('running');
    serve.kill('SIGKILL');
    await new Promise((r) => serve.once('exit', r));
    const gone = await stasis(['pause', id]);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toBe(`stasis: node ${nodeId}, which runs job ${id}, is not listening for control requests (is it down?)\n`);
    // Back with the same node id: it re-attaches to the container and answers for it again.
    serve = await startServe();
    let ps: { exitCode: number; stdout: string } = { exitCode: -1, stdout: '' };
    for (let i = 0; i < 100 && ps.exitCode !== 0; i++) {
      ps = await stasis(['ps', id, '--json']);
      if (ps.exitCode !== 0) await sleep(200);
    }
    expect(JSON.parse(ps.stdout)).toMatchObject({ status: 'running' });
    await finish(id);
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
  });
});
