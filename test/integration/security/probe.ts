/**
 * The seccomp probe (seccomp-probe.c), compiled with `gcc -static -O1` into a temporary directory
 * once per test file and removed by `removeSeccompProbe()`. Static, so it runs in a rootfs that has
 * no libc.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, ExecaError } from 'execa';

/** The probe's C source, next to this file. */
export const PROBE_SOURCE = fileURLToPath(new URL('./seccomp-probe.c', import.meta.url));

const GCC = process.env.CC ?? 'gcc';
const INSTALL_HINT = 'install gcc and libc6-dev (static libc.a)';

/** Why the probe cannot be built on this host (gcc or a static libc missing), or undefined when it can. */
export function probeToolchainMissing(): string | undefined {
  let libc: string;
  try {
    libc = execFileSync(GCC, ['-print-file-name=libc.a'], { encoding: 'utf8' }).trim();
  } catch {
    return `${GCC} not found: the seccomp tests compile a static probe (${INSTALL_HINT})`;
  }
  // gcc prints the bare name when it cannot find the file.
  if (!path.isAbsolute(libc)) return `no static libc (libc.a) for ${GCC}: the seccomp probe is linked with -static (${INSTALL_HINT})`;
  return undefined;
}

let dir: string | undefined;
let built: Promise<string> | undefined;

async function build(): Promise<string> {
  const missing = probeToolchainMissing();
  if (missing) throw new Error(missing);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-seccomp-probe-'));
  const out = path.join(dir, 'seccomp-probe');
  try {
    await execa(GCC, ['-static', '-O1', '-Wall', '-o', out, PROBE_SOURCE, '-lpthread']);
  } catch (e) {
    const detail = e instanceof ExecaError ? (e.stderr ?? e.shortMessage) : String(e);
    throw new Error(`compiling ${PROBE_SOURCE} with \`${GCC} -static\` failed (${INSTALL_HINT}):\n${detail}`);
  }
  return out;
}

/** Path of the compiled probe; compiles it on the first call. */
export function seccompProbe(): Promise<string> {
  built ??= build();
  return built;
}

/** Removes the probe's temporary directory. */
export async function removeSeccompProbe(): Promise<void> {
  built = undefined;
  if (dir) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
}
