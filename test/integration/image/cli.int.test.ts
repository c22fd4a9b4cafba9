import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { commands } from '../../../src/cli/commands/index.js';
import { runCli } from '../../../src/cli/dispatch.js';
import { describeWithHost } from '../../helpers/host.js';
import { buildTestImages, startRegistry, type Registry, type TestImages } from './registry.js';
import { countLog, loggingWrappers } from './tools.js';

/** Runs the CLI in this process; `tty` makes stderr look like a terminal. */
async function cli(argv: string[], o: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: o.tty ?? false });
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(commands, argv, { stdout, stderr, env: o.env ?? {} });
  return { code, out, err };
}

describeWithHost(['root', 'busybox', 'skopeo', 'umoci', 'docker-registry'], 'stasis image …', () => {
  let reg: Registry;
  let imgs: TestImages;
  let stateDir: string;

  beforeAll(async () => {
    reg = await startRegistry();
    imgs = await buildTestImages(reg);
  });
  afterAll(async () => {
    await reg?.stop();
    if (imgs) await fsp.rm(imgs.work, { recursive: true, force: true });
  });
  beforeEach(async () => {
    stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-image-cli-'));
  });
  afterEach(async () => {
    await fsp.rm(stateDir, { recursive: true, force: true });
  });

  it('pull, ls, inspect, rm and prune work on the state dir', async () => {
    const pull = await cli(['--state-dir', stateDir, 'image', 'pull', imgs.app.ref, '--insecure', '--json']);
    expect(pull.code).toBe(0);
    expect(pull.err).toBe(''); // stderr is not a terminal: no progress
    expect(JSON.parse(pull.out)).toMatchObject({ ref: imgs.app.ref, digest: imgs.app.digest, pulled: true, config: { user: 'app' } });

    const human = await cli(['image', 'pull', imgs.noShell.ref, '--insecure', '--map', '100000:65536', '--state-dir', stateDir]);
    expect(human.out).toMatch(new RegExp(`^image: +${imgs.noShell.ref}\ndigest: +${imgs.noShell.digest}\n`));
    expect(human.out).toContain('-u100000-65536/rootfs');

    const ls = await cli(['image', 'ls', '--state-dir', stateDir]);
    expect(ls.out).toMatch(/^REFERENCE +DIGEST +SIZE +UNPACKED +LAST USED\n/);
    expect(ls.out).toContain('0:100000:65536');
    const lsJson = JSON.parse((await cli(['image', 'ls', '--json', '--state-dir', stateDir])).out) as { digest: string }[];
    expect(lsJson.map((i) => i.digest).sort()).toEqual([imgs.app.digest, imgs.noShell.digest].sort());

    const inspect = JSON.parse((await cli(['image', 'inspect', imgs.app.ref, '--state-dir', stateDir])).out) as { config: { entrypoint: string[] } };
    expect(inspect.config.entrypoint).toEqual(['/bin/sh', '-c']);

    const rm = await cli(['image', 'rm', imgs.noShell.ref, '--state-dir', stateDir]);
    expect(rm).toMatchObject({ code: 0, out: `removed ${imgs.noShell.ref} (${imgs.noShell.digest})\n` });
    const prune = await cli(['image', 'prune', '--min-idle', '0', '--json', '--state-dir', stateDir]);
    expect(JSON.parse(prune.out)).toMatchObject({ removed: [imgs.app.digest] });
    expect((await cli(['image', 'ls', '-q', '--state-dir', stateDir])).out).toBe('');
  });

  it('draws a progress bar of bytes and layers on a terminal', async () => {
    const r = await cli(['image', 'pull', imgs.app.ref, '--insecure', '--state-dir', stateDir], { tty: true });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/resolving /);
    expect(r.err).toMatch(/pulling \S+ \[#{24}\] ([\d.]+[KM]iB)\/\1 1\/1 layers/);
    expect(r.err.endsWith('\n')).toBe(true);
  });

  it('exits 1 with the policy refusal, and 2 for a bad reference', async () => {
    const policy = path.join(stateDir, 'policy.json');
    await fsp.writeFile(policy, JSON.stringify({ allowedRegistries: ['registry.example'] }));
    const denied = await cli(['image', 'pull', imgs.app.ref, '--policy', policy, '--state-dir', stateDir]);
    expect(denied).toMatchObject({ code: 1, err: expect.stringContaining('does not allow') });
    const bad = await cli(['image', 'pull', 'Bad/Ref', '--state-dir', stateDir]);
    expect(bad.code).toBe(2);
    expect((await cli(['image', 'inspect', 'nope:1', '--state-dir', stateDir])).err).toContain("is not in the node's store");
  });

  it('two CLI processes pulling the same image at once make one copy and one unpack', async () => {
    const w = await loggingWrappers(stateDir);
    const env = { ...process.env, STASIS_SKOPEO: w.skopeo, STASIS_UMOCI: w.umoci };
    const run = () =>
      execa('node_modules/.bin/vite-node', ['src/cli/main.ts', '--', 'image', 'pull', imgs.app.ref, '--insecure', '--json', '--state-dir', path.join(stateDir, 's')], { env, reject: false });
    const [a, b] = await Promise.all([run(), run()]);
    expect([a.exitCode, b.exitCode], `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);
    const [ja, jb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)] as { rootfs: string; pulled: boolean }[];
    expect(ja!.rootfs).toBe(jb!.rootfs);
    expect([ja!.pulled, jb!.pulled].sort()).toEqual([false, true]);
    expect(await countLog(w.log, ' copy ')).toBe(1);
    expect(await countLog(w.log, ' raw unpack ')).toBe(1);
  });
});
