/**
 * Host requirements of integration tests. On a developer machine a missing dependency skips the
 * suite with a reason; in CI (`CI` set) it fails the run, so CI can never go green by skipping.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe } from 'vitest';

/** A host dependency an integration suite can require. */
export type HostDep = 'runc' | 'conmon' | 'criu' | 'redis-server' | 'busybox' | 'root' | 'skopeo' | 'umoci' | 'docker-registry' | 'chromium';

const CRIU = process.env.STASIS_CRIU ?? '/usr/local/bin/stasis-criu';

function present(dep: HostDep): boolean {
  switch (dep) {
    case 'root':
      return process.getuid?.() === 0;
    case 'runc':
      return fs.existsSync(process.env.STASIS_RUNC ?? '/usr/sbin/runc');
    case 'conmon':
      return fs.existsSync(process.env.STASIS_CONMON ?? '/usr/bin/conmon');
    case 'busybox':
      return fs.existsSync('/bin/busybox');
    case 'redis-server':
      try {
        execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    case 'skopeo':
    case 'umoci':
    case 'docker-registry':
    case 'chromium':
      try {
        execFileSync(dep, ['--version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    case 'criu':
      try {
        execFileSync(CRIU, ['check'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
  }
}

/** The host dependencies among `deps` that are missing. */
export function missingDeps(deps: HostDep[]): HostDep[] {
  return deps.filter((d) => !present(d));
}

/** `describe` that needs host dependencies: skips without them locally, throws in CI. */
export function describeWithHost(deps: HostDep[], name: string, fn: () => void): void {
  const missing = missingDeps(deps);
  if (missing.length === 0) return void describe(name, fn);
  const msg = `missing host dependencies: ${missing.join(', ')} (run: npm run setup)`;
  if (process.env.CI) throw new Error(`${name}: ${msg}`);
  describe.skip(`${name} [skipped: ${msg}]`, fn);
}
