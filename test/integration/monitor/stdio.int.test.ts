import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AttachConnection, closeStdin, sendStdin } from '../../../src/monitor/attach.js';
import { reopenLog, resizeConsole } from '../../../src/monitor/ctl.js';
import { monitorAlive, waitExit } from '../../../src/monitor/exit-file.js';
import { readLog } from '../../../src/monitor/log.js';
import { describeWithHost } from '../../helpers/host.js';
import { MonitorFixture, until } from './fixture.js';

describeWithHost(['root', 'runc', 'conmon', 'busybox'], 'stdin, terminal and control of a conmon-monitored container', () => {
  let f: MonitorFixture;
  beforeAll(async () => {
    f = await MonitorFixture.create();
  });
  afterAll(async () => {
    await f?.cleanup();
  });

  async function running(args: string[], o: { stdin?: boolean; terminal?: boolean } = {}) {
    const id = f.id();
    const bundle = await f.bundle(id, { args, terminal: o.terminal });
    const runDir = await f.runDir(id);
    const r = await f.launch({ containerId: id, bundle, runDir, stdin: o.stdin, terminal: o.terminal });
    await f.runc.start(id);
    return { id, bundle, runDir, ...r };
  }

  async function logText(runDir: string): Promise<string[]> {
    const out: string[] = [];
    for await (const e of readLog(path.join(runDir, 'ctr.log'))) out.push(e.data);
    return out;
  }

  it('delivers stdin written in several calls and EOF after closeStdin', async () => {
    const t = await running(['sh', '-c', 'read x; echo got $x; cat; echo eof-seen'], { stdin: true });
    await sendStdin(t.bundle, 'hello\n', false);
    await sendStdin(t.bundle, new TextEncoder().encode('second line\n'), false);
    await until(async () => (await logText(t.runDir)).includes('second line'), 5000, 'cat to echo the second line');
    await closeStdin(t.bundle, { runDir: t.runDir });
    const exit = await waitExit(t.runDir);
    expect(exit.status).toBe(0);
    expect(await logText(t.runDir)).toEqual(['got hello', 'second line', 'eof-seen']);
  });

  it('sendStdin with close=true writes then closes stdin; large input arrives whole', async () => {
    const t = await running(['sh', '-c', 'wc -c'], { stdin: true });
    const big = 'x'.repeat(200_000) + '\n';
    await sendStdin(t.bundle, big, true, { runDir: t.runDir });
    expect((await waitExit(t.runDir)).status).toBe(0);
    expect((await logText(t.runDir)).map((s) => s.trim())).toEqual(['200001']);
  });

  it('attaching after the monitor has gone is a failed precondition', async () => {
    const t = await running(['true']);
    await waitExit(t.runDir);
    await until(async () => !(await monitorAlive(t.runDir)), 5000, 'conmon to exit');
    await expect(AttachConnection.connect(t.bundle)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
  });

  it('resizes a terminal container through the ctl FIFO and takes terminal input from the attach socket', async () => {
    const t = await running(['sh'], { terminal: true });
    await resizeConsole(t.bundle, { width: 100, height: 30 });
    const stty = await f.runc.exec(t.id, ['stty', '-F', '/dev/console', 'size']);
    expect(stty.stdout.trim()).toBe('30 100');
    await resizeConsole(t.bundle, { width: 70, height: 20 });
    expect((await f.runc.exec(t.id, ['stty', '-F', '/dev/console', 'size'])).stdout.trim()).toBe('20 70');
    const c = await AttachConnection.connect(t.bundle);
    let seen = '';
    c.onOutput((_s, d) => (seen += d.toString()));
    await c.write('echo hello-from-attach $((6*7))\n');
    await until(async () => seen.includes('hello-from-attach 42'), 5000, 'pty echo');
    await c.write('exit 3\n');
    expect((await waitExit(t.runDir)).status).toBe(3);
    await c.close();
    expect((await logText(t.runDir)).some((l) => l.startsWith('hello-from-attach 42'))).toBe(true);
    await expect(resizeConsole(t.bundle, { width: 0, height: 10 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('an exec process gets its own stdin (conmon -e -i) and its own pty (conmon -e -t)', async () => {
    const t = await running(['sleep', '300']);
    const spec = (args: string[], terminal: boolean) => ({ args, cwd: '/', env: ['PATH=/bin', 'TERM=xterm'], terminal, user: { uid: 0, gid: 0 } });
    const e1 = await f.runDir(`${t.id}-x-stdin`);
    await fs.writeFile(path.join(e1, 'process.json'), JSON.stringify(spec(['sh', '-c', 'cat; echo done'], false)));
    await f.launch({ containerId: t.id, bundle: e1, runDir: e1, stdin: true, exec: { processSpecPath: path.join(e1, 'process.json') } });
    await sendStdin(e1, 'piped\n', true, { runDir: e1 });
    expect((await waitExit(e1)).status).toBe(0);
    expect(await logText(e1)).toEqual(['piped', 'done']);

    const e2 = await f.runDir(`${t.id}-x-tty`);
    await fs.writeFile(path.join(e2, 'process.json'), JSON.stringify(spec(['sh'], true)));
    await f.launch({ containerId: t.id, bundle: e2, runDir: e2, terminal: true, exec: { processSpecPath: path.join(e2, 'process.json') } });
    await resizeConsole(e2, { width: 90, height: 25 });
    const c = await AttachConnection.connect(e2);
    let seen = '';
    c.onOutput((_s, d) => (seen += d.toString()));
    // A shell may flush pending pty input while it sets up its line editor, so ask until it answers.
    let asked = 0;
    await until(async () => {
      if (seen.includes('25 90')) return true;
      if (asked++ % 20 === 0) await c.write('stty size\n');
      return false;
    }, 15_000, 'stty size over the exec pty');
    await c.write('exit 6\n');
    expect((await waitExit(e2)).status).toBe(6);
    await c.close();
    expect(seen).toContain('25 90');
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
  });

  it('ctl writes fail fast once the monitor is gone', async () => {
    const t = await running(['true']);
    await waitExit(t.runDir);
    await until(async () => {
      try {
        await resizeConsole(t.bundle, { width: 10, height: 10 });
        return false;
      } catch (e) {
        return (e as { code?: string }).code === 'ERR_FAILED_PRECONDITION';
      }
    }, 5000, 'ctl to report no monitor');
  });

  it('reopens the log after a rename (rotation)', async () => {
    const t = await running(['sh', '-c', 'i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done']);
    const log = path.join(t.runDir, 'ctr.log');
    await until(async () => (await logText(t.runDir)).length >= 2, 5000, 'first lines');
    await fs.rename(log, `${log}.1`);
    await reopenLog(t.bundle);
    await until(async () => (await logText(t.runDir)).length >= 2, 5000, 'lines in the new log');
    const old: string[] = [];
    for await (const e of readLog(`${log}.1`)) old.push(e.data);
    const fresh = await logText(t.runDir);
    const n = (s: string) => parseInt(s.split(' ')[1]!, 10);
    expect(n(fresh[0]!)).toBeGreaterThan(n(old[old.length - 1]!));
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
  });
});
