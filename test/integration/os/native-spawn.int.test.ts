import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { Readable, Writable } from 'node:stream';
import { nativeSpawnState, spawnNative, type NativeChild } from '../../../src/os/native-spawn.js';
import { repoRoot } from '../../../src/pool/pool.js';

/** Everything the child wrote on its fd `n` ('w'), once its pipe closed. */
function text(c: NativeChild, n: number): Promise<string> {
  const r = c.stdio[n] as Readable;
  let s = '';
  r.on('data', (b: Buffer) => void (s += b.toString('utf8')));
  return new Promise((resolve) => r.once('close', () => resolve(s)));
}

/** A field of the child's /proc/self/status as the shell saw it. */
const field = (status: string, name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];

describe('posix_spawn with pipes (native/spawn.c)', () => {
  const available = nativeSpawnState() === 'built';

  it('the addon is built (npm run build) wherever a C compiler is, and always in CI', () => {
    if (process.env.CI) expect(available).toBe(true);
  });

  it.runIf(available)('gives the child its argv, env, cwd and pipes, and reports its exit status', async () => {
    const c = spawnNative('sh', ['-c', 'read x; echo "got $x in $(pwd) with $FOO"; echo oops >&2; exit 3'], {
      env: { PATH: process.env.PATH, FOO: 'bar' },
      cwd: '/tmp',
      stdio: 'rww',
    })!;
    (c.stdio[0] as Writable).end('hello\n');
    const [out, err, exit] = await Promise.all([text(c, 1), text(c, 2), c.exited]);
    expect(out).toBe('got hello in /tmp with bar\n');
    expect(err).toBe('oops\n');
    expect(exit).toEqual({ exitCode: 3, signal: null });
  });

  it.runIf(available)('a child holds only the fds it was given, unblocked default signals, and its own session when detached', async () => {
    // fd 3 is a pipe the child writes, as conmon's sync pipe; nothing else of this process reaches it.
    // (No redirections in the script: the shell would keep copies of the fds it redirects.) The
    // masks are read by `cat` of its own status, inherited through the shell: the shell's own
    // SigBlk is briefly all-blocked while it vforks a command, which `cat /proc/$$/status` could see.
    const c = spawnNative('sh', ['-c', 'ls /proc/$$/fd; echo --; cat /proc/self/status; cut -d" " -f6 /proc/$$/stat'], {
      env: { PATH: process.env.PATH },
      stdio: 'nwnw',
      detached: true,
    })!;
    const [out] = await Promise.all([text(c, 1), text(c, 3), c.exited]);
    const [fds, status] = out.split('--\n') as [string, string];
    expect(fds.trim().split(/\s+/).sort()).toEqual(['0', '1', '2', '3']);
    expect(field(status, 'SigBlk')).toMatch(/^0+$/);
    // Node ignores SIGPIPE, and glibc's posix_spawn alone would leave its own signals 32 and 33
    // ignored (an exec keeps that, down to the job): the child ignores nothing.
    expect(field(status, 'SigIgn')).toMatch(/^0+$/);
    const sid = Number(status.trim().split('\n').at(-1));
    expect(sid).toBe(c.pid);
  });

  it.runIf(available)('a program that cannot be executed is an error worded as child_process words it', () => {
    expect(() => spawnNative('/nonexistent/tool', [], { env: {}, stdio: 'n' })).toThrow(expect.objectContaining({ code: 'ENOENT', message: expect.stringMatching(/^spawn \/nonexistent\/tool ENOENT/) }));
    expect(() => spawnNative('/tmp', [], { env: {}, stdio: 'n' })).toThrow(expect.objectContaining({ code: 'EACCES' }));
  });

  it.runIf(available)('reports a kill by its signal name', async () => {
    const c = spawnNative('sleep', ['10'], { env: { PATH: process.env.PATH }, stdio: 'n' })!;
    process.kill(c.pid, 'SIGTERM');
    expect(await c.exited).toEqual({ exitCode: null, signal: 'SIGTERM' });
  });

  it.runIf(available)('a worker thread that ends while its child runs leaves the process alive (the runner with STASIS_SPAWN_HELPER=0 did not)', async () => {
    // The thread's end unloads the addons it loaded; its reaper, still in waitpid, must not return into them.
    const script = `
      import { Worker } from 'node:worker_threads';
      const w = new Worker(\`
        import { parentPort, workerData } from 'node:worker_threads';
        const { spawnNative } = await import(workerData);
        parentPort.postMessage(spawnNative('sleep', ['0.5'], { env: process.env, stdio: 'n' }).pid);
      \`, { eval: true, workerData: process.argv[1] });
      const pid = await new Promise((r) => w.once('message', r));
      await w.terminate();
      await new Promise((r) => setTimeout(r, 1500));
      let gone = false;
      try { process.kill(pid, 0); } catch { gone = true; }
      console.log(gone ? 'alive, child reaped' : 'alive, child not reaped');
    `;
    const r = await execa(process.execPath, ['--input-type=module', '-e', script, path.join(repoRoot(), 'dist/src/os/native-spawn.js')], { reject: false });
    expect({ exitCode: r.exitCode, signal: r.signal ?? null, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({ exitCode: 0, signal: null, stdout: 'alive, child reaped', stderr: '' });
  });

  it('is off with STASIS_NATIVE_SPAWN=0', () => {
    process.env.STASIS_NATIVE_SPAWN = '0';
    try {
      expect(spawnNative('true', [], { env: {}, stdio: 'n' })).toBeNull();
    } finally {
      delete process.env.STASIS_NATIVE_SPAWN;
    }
  });
});
