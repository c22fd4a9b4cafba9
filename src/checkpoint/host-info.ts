/** Reads this host's CRIU, runc and kernel versions and its CPU features (cached per process). */
import fs from 'node:fs/promises';
import os from 'node:os';
import { failureText, runCommand } from '../os/command.js';
import { errors } from '../errors.js';
import type { HostInfo } from './manifest.js';

/**
 * CPU flags that matter for restoring a CRIU image: instruction-set extensions a process may have
 * detected and used (its FPU/xsave state and code paths depend on them). Other flags (bugs,
 * virtualisation, power management) may differ between hosts without harm.
 */
const RELEVANT_FLAG = new RegExp(
  '^(fpu|mmx|fxsr|sse|sse2|pni|ssse3|sse4_1|sse4_2|sse4a|avx|avx2|avx512.*|avx_.*|amx_.*|xsave|xsaveopt|xsavec|xsaves|' +
    'fma|fma4|f16c|aes|vaes|pclmulqdq|vpclmulqdq|gfni|sha_ni|bmi1|bmi2|adx|abm|popcnt|movbe|lzcnt|cx8|cx16|lm|' +
    'rdrand|rdseed|rdpid|erms|fsrm|clflushopt|clwb|pku|ospke|movdiri|movdir64b|serialize|tsxldtrk|rtm|hle|lahf_lm)$',
);

/** True when a /proc/cpuinfo flag matters for CRIU restore (see RELEVANT_FLAG). */
export function isRelevantCpuFlag(flag: string): boolean {
  return RELEVANT_FLAG.test(flag);
}

/** Parses `criu --version` output ("Version: 4.1.1") into "4.1.1". */
export function parseCriuVersion(out: string): string {
  const m = /Version:\s*(\S+)/.exec(out);
  if (!m) throw errors.unavailable(`cannot read the CRIU version from \`criu --version\`: ${out.trim().slice(0, 200)}`);
  return m[1]!;
}

/** Parses `runc --version` output into version, commit and spec version. */
export function parseRuncVersion(out: string): HostInfo['runc'] {
  const m = /runc version\s+(\S+)/.exec(out);
  if (!m) throw errors.unavailable(`cannot read the runc version from \`runc --version\`: ${out.trim().slice(0, 200)}`);
  const commit = /^commit:\s*(\S+)/m.exec(out)?.[1];
  const spec = /^spec:\s*(\S+)/m.exec(out)?.[1];
  return { version: m[1]!, ...(commit ? { commit } : {}), ...(spec ? { spec } : {}) };
}

/** Reads vendor, model and the restore-relevant flags (sorted) of the first CPU in /proc/cpuinfo text. */
export function parseCpuinfo(text: string): HostInfo['cpu'] {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const flags = field('flags').split(/\s+/).filter((f) => f && isRelevantCpuFlag(f));
  return { vendor: field('vendor_id'), model: field('model name'), flags: [...new Set(flags)].sort() };
}

/** Binaries whose versions are recorded. */
export interface HostInfoOptions {
  criu?: string;
  runc?: string;
}

const cache = new Map<string, Promise<HostInfo>>();

async function versionOf(bin: string): Promise<string> {
  const r = await runCommand(bin, ['--version']);
  if (r.exitCode !== 0) {
    throw errors.unavailable(`cannot run \`${bin} --version\`: ${failureText(r).split('\n')[0]}`, {
      argv: [bin, '--version'],
    });
  }
  return `${r.stdout}\n${r.stderr}`;
}

async function read(o: Required<HostInfoOptions>): Promise<HostInfo> {
  const [criuOut, runcOut, cpuinfo] = await Promise.all([
    versionOf(o.criu),
    versionOf(o.runc),
    fs.readFile('/proc/cpuinfo', 'utf8'),
  ]);
  return {
    arch: os.machine?.() ?? process.arch,
    kernel: { release: os.release() },
    criu: { version: parseCriuVersion(criuOut) },
    runc: parseRuncVersion(runcOut),
    cpu: parseCpuinfo(cpuinfo),
  };
}

/** This host's versions and CPU features; computed once per process per pair of binaries. */
export function readHostInfo(o: HostInfoOptions = {}): Promise<HostInfo> {
  const opts = {
    criu: o.criu ?? process.env.STASIS_CRIU ?? '/usr/local/bin/stasis-criu',
    runc: o.runc ?? process.env.STASIS_RUNC ?? '/usr/sbin/runc',
  };
  const key = `${opts.criu}\0${opts.runc}`;
  let p = cache.get(key);
  if (!p) {
    p = read(opts);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}
