import { usageError } from '../args.js';
import { formatTable, jsonLine } from '../output.js';
import { tableCommand } from '../table-command.js';
import { loadRuntimeConfig } from '../../config/load.js';
import { BUSYBOX_BINARY } from '../../sandbox/busybox.js';
import { mountAddonState } from '../../sandbox/mount-table.js';
import { seccompLoaderState } from '../../runtime/compiled-seccomp.js';
import { nativeStartState } from '../../runtime/native-start.js';
import { sealedRuncState } from '../../runc/sealed-binary.js';
import { nativeSpawnState } from '../../os/native-spawn.js';
import { hostReady, runHostChecks, type CheckResult } from '../../host/checks.js';
import { hostProbe } from '../../host/probe.js';

/** Human output of doctor: one line per check, the fix under each failure, and a verdict. */
export function formatDoctor(results: CheckResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    rows.push([r.status, r.name, r.detail]);
  }
  let out = formatTable(['STATUS', 'CHECK', 'DETAIL'], rows);
  const failed = results.filter((r) => r.status !== 'ok');
  if (failed.length) {
    out += '\nTo fix:\n';
    for (const r of failed) out += `  ${r.name}${r.required ? '' : ' (optional)'}: ${r.fix ?? ''}\n`;
  }
  const missing = results.filter((r) => r.status === 'missing').length;
  out += missing ? `\n${missing} required host dependenc${missing === 1 ? 'y is' : 'ies are'} missing.\n` : '\nThis host is ready for stasis.\n';
  return out;
}

/** `stasis doctor`: checks every host requirement and says what to do about each missing one. */
export const doctor = tableCommand({
  name: 'doctor',
  summary: 'check the host: runc, conmon, CRIU, iptables, cgroups, overlayfs, redis, busybox, tini, user namespaces, root',
  synopsis: 'doctor [options]',
  about: `Checks every host requirement: root, runc, conmon, CRIU ('criu check' must say "Looks good"),
iptables-restore, the memory/cpu/pids/freezer cgroup controllers, overlayfs, redis-server,
busybox-static and tini-static (every task's launcher and init), user namespaces (a warning when
STASIS_USERNS=host turns them off), and the versions of umoci and skopeo (optional: the image store
needs them). Prints what is missing and exactly how to get it, and exits 1 when a required one is
missing. Binaries come from STASIS_RUNC, STASIS_CONMON and STASIS_CRIU when set.`,
  options: {
    json: { type: 'boolean', help: 'print {"ok", "checks": [{"name","status","required","detail","fix"}]}' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'`);
    const cfg = loadRuntimeConfig({}, io.env);
    const results = await runHostChecks(hostProbe(io.env), {
      runc: cfg.runc,
      conmon: cfg.conmon,
      criu: cfg.criu,
      busybox: io.env.STASIS_BUSYBOX ?? BUSYBOX_BINARY,
      init: cfg.init,
      userns: io.env.STASIS_USERNS ?? 'private',
      mountAddon: mountAddonState(io.env),
      sealedRunc: sealedRuncState(io.env),
      nativeSpawn: nativeSpawnState(io.env),
      seccompLoader: seccompLoaderState(io.env),
      nativeStart: nativeStartState(io.env),
    });
    const ok = hostReady(results);
    io.stdout.write(values.json ? jsonLine({ ok, checks: results }) : formatDoctor(results));
    return ok ? 0 : 1;
  },
});
