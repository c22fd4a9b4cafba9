/**
 * A real OCI registry on 127.0.0.1 for image tests (Debian's docker-registry, distribution 2.8,
 * with a private config and storage dir), and test images built with umoci from small rootfs
 * directories and pushed with skopeo. No internet. No vitest import: the bench uses it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { sha256Digest } from '../../../src/image/manifest.js';

/** A running registry. */
export interface Registry {
  /** `127.0.0.1:PORT` */
  host: string;
  dir: string;
  stop(): Promise<void>;
}

import { freePort } from '../../helpers/net.js';

export { freePort };

/** Starts docker-registry on a free loopback port with its storage in a temporary dir. */
export async function startRegistry(binary = process.env.STASIS_DOCKER_REGISTRY ?? 'docker-registry'): Promise<Registry> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, 'config.yml');
  await fsp.writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      `  secret: ${randomUUID()}`,
      '',
    ].join('\n'),
  );
  const log = fs.openSync(path.join(dir, 'registry.log'), 'a');
  const child: ChildProcess = spawn(binary, ['serve', config], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
    await fsp.rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = await fsp.readFile(path.join(dir, 'registry.log'), 'utf8').catch(() => '');
      await stop();
      throw new Error(`docker-registry did not start on ${host}: ${text.trim().split('\n').pop() ?? ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, dir, stop };
}

/** Process defaults of a test image (umoci config flags). */
export interface ImageSpec {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
}

/** Builds `layout:tag` from layer directories (each inserted at /) and a config; returns its manifest digest. */
export async function buildLayout(o: { layout: string; tag: string; layers: string[]; spec?: ImageSpec }): Promise<string> {
  const image = `${o.layout}:${o.tag}`;
  if (!fs.existsSync(path.join(o.layout, 'index.json'))) await execa('umoci', ['init', '--layout', o.layout]);
  await execa('umoci', ['new', '--image', image]);
  for (const l of o.layers) await execa('umoci', ['insert', '--image', image, l, '/']);
  const s = o.spec ?? {};
  const args = [
    ...(s.entrypoint ?? []).flatMap((a) => ['--config.entrypoint', a]),
    ...(s.cmd ?? []).flatMap((a) => ['--config.cmd', a]),
    ...(s.env ?? []).flatMap((a) => ['--config.env', a]),
    ...(s.workingDir ? ['--config.workingdir', s.workingDir] : []),
    ...(s.user ? ['--config.user', s.user] : []),
  ];
  if (args.length) await execa('umoci', ['config', '--image', image, ...args]);
  const index = JSON.parse(await fsp.readFile(path.join(o.layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const d = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === o.tag);
  if (!d) throw new Error(`umoci left no ${o.tag} in ${o.layout}`);
  return d.digest;
}

/** Pushes `layout:tag` to `registry/repoTag` over plain HTTP; returns the digest the registry serves. */
export async function push(layout: string, tag: string, registry: string, repoTag: string): Promise<string> {
  await execa('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:${tag}`, `docker://${registry}/${repoTag}`]);
  const r = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry}/${repoTag}`], { encoding: 'buffer', stripFinalNewline: false });
  return sha256Digest(Buffer.from(r.stdout));
}

/**
 * A busybox rootfs with a named user (`app`, 1000:1000, in group `staff` 50), a home owned by it,
 * a setuid-root file and a setuid/setgid file owned by app.
 */
export async function appRootfs(dir: string): Promise<string> {
  for (const d of ['bin', 'etc', 'home/app', 'usr/local/bin', 'tmp']) await fsp.mkdir(path.join(dir, d), { recursive: true });
  await fsp.copyFile('/bin/busybox', path.join(dir, 'bin/busybox'));
  await fsp.symlink('busybox', path.join(dir, 'bin/sh'));
  await fsp.writeFile(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  await fsp.writeFile(path.join(dir, 'etc/group'), 'root:x:0:\nstaff:x:50:app\napp:x:1000:\n');
  await fsp.writeFile(path.join(dir, 'home/app/notes'), 'mine\n');
  await fsp.chown(path.join(dir, 'home/app'), 1000, 1000);
  await fsp.chown(path.join(dir, 'home/app/notes'), 1000, 1000);
  await fsp.writeFile(path.join(dir, 'usr/local/bin/suid-root'), '#!/bin/sh\necho root\n');
  await fsp.chmod(path.join(dir, 'usr/local/bin/suid-root'), 0o4755);
  await fsp.writeFile(path.join(dir, 'usr/local/bin/sgid-app'), '#!/bin/sh\necho app\n');
  await fsp.chown(path.join(dir, 'usr/local/bin/sgid-app'), 1000, 1000);
  await fsp.chmod(path.join(dir, 'usr/local/bin/sgid-app'), 0o6750);
  await fsp.chmod(path.join(dir, 'tmp'), 0o1777);
  return dir;
}

/** A rootfs with no shell and no /etc: only a static binary (busybox, named echo). */
export async function noShellRootfs(dir: string): Promise<string> {
  await fsp.mkdir(path.join(dir, 'bin'), { recursive: true });
  await fsp.copyFile('/bin/busybox', path.join(dir, 'bin/echo'));
  return dir;
}

/** `count` layer directories of `mib` MiB of random (incompressible) data each. */
export async function randomLayers(dir: string, count = 5, mib = 10): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const l = path.join(dir, `layer-${i}`);
    await fsp.mkdir(path.join(l, 'data'), { recursive: true });
    await fsp.writeFile(path.join(l, 'data', `blob-${i}`), randomBytes(mib * 1024 * 1024));
    out.push(l);
  }
  return out;
}

/** The images most tests use, pushed to `registry`; `work` holds the layouts and rootfs dirs. */
export interface TestImages {
  work: string;
  /** The OCI layout the images were built in (tags `app`, `noshell`, and `big` when asked). */
  layout: string;
  app: { ref: string; digest: string };
  noShell: { ref: string; digest: string };
  big?: { ref: string; digest: string };
}

/** Builds and pushes the test images (the ~50 MB one only with `big`). */
export async function buildTestImages(registry: Registry, o: { big?: boolean } = {}): Promise<TestImages> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-images-'));
  const layout = path.join(work, 'layout');
  const app = await appRootfs(path.join(work, 'app'));
  await buildLayout({
    layout,
    tag: 'app',
    layers: [app],
    spec: { entrypoint: ['/bin/sh', '-c'], cmd: ['echo hello from app'], env: ['PATH=/usr/local/bin:/bin', 'MODE=image'], workingDir: '/home/app', user: 'app' },
  });
  const appDigest = await push(layout, 'app', registry.host, 'team/app:1.0');
  await buildLayout({ layout, tag: 'noshell', layers: [await noShellRootfs(path.join(work, 'noshell'))], spec: { entrypoint: ['/bin/echo'], cmd: ['hello'] } });
  const noShellDigest = await push(layout, 'noshell', registry.host, 'team/noshell:1');
  const out: TestImages = {
    work,
    layout,
    app: { ref: `${registry.host}/team/app:1.0`, digest: appDigest },
    noShell: { ref: `${registry.host}/team/noshell:1`, digest: noShellDigest },
  };
  if (o.big) {
    await buildLayout({ layout, tag: 'big', layers: [app, ...(await randomLayers(path.join(work, 'big')))], spec: { cmd: ['sh'] } });
    out.big = { ref: `${registry.host}/team/big:1`, digest: await push(layout, 'big', registry.host, 'team/big:1') };
  }
  return out;
}
