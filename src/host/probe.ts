/** The real HostProbe: runs programs with execa (argv only), reads /proc, searches PATH. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { HostProbe, RunResult } from './checks.js';

const EXTRA_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** A probe of this host; `env` supplies PATH. */
export function hostProbe(env: NodeJS.ProcessEnv = process.env): HostProbe {
  return {
    async run(file: string, args: string[]): Promise<RunResult> {
      const r = await execa(file, args, { reject: false, timeout: 60_000, stdin: 'ignore', env: { LC_ALL: 'C' } });
      const code = (r as { code?: string }).code;
      if (code === 'ENOENT' || code === 'EACCES') return { found: false, exitCode: -1, stdout: '', stderr: '' };
      return { found: true, exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
    },
    async readFile(p: string): Promise<string | null> {
      return fs.readFile(p, 'utf8').catch(() => null);
    },
    async exists(p: string): Promise<boolean> {
      return fs.access(p).then(() => true, () => false);
    },
    async which(name: string): Promise<string | null> {
      const dirs = [...(env.PATH ?? '').split(':').filter(Boolean), ...EXTRA_PATH];
      for (const d of dirs) {
        const p = path.join(d, name);
        const ok = await fs.access(p, fs.constants.X_OK).then(() => true, () => false);
        if (ok) return p;
      }
      return null;
    },
    uid(): number {
      return process.getuid?.() ?? -1;
    },
  };
}
