/** Pure parsers of host files and program output used by the host checks. */

/** The cgroup hierarchies found in /proc/self/mountinfo. */
export interface CgroupMounts {
  /** v1 controllers mounted (e.g. memory, cpu, pids, freezer). */
  v1: Set<string>;
  /** Mount point of the cgroup2 hierarchy, if any (/sys/fs/cgroup or /sys/fs/cgroup/unified). */
  v2Path: string | null;
}

const V1_CONTROLLERS = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc',
]);

/** Parses /proc/self/mountinfo into the mounted cgroup v1 controllers and the cgroup2 mount point. */
export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const v1 = new Set<string>();
  let v2Path: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const before = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = before[4];
    if (!mountPoint) continue;
    if (fstype === 'cgroup') {
      for (const o of superOpts.split(',')) if (V1_CONTROLLERS.has(o)) v1.add(o);
    } else if (fstype === 'cgroup2') {
      if (v2Path === null || mountPoint === '/sys/fs/cgroup') v2Path = mountPoint;
    }
  }
  return { v1, v2Path };
}

/** The version from a program's `--version` output: `runc version 1.1.5` → `1.1.5`, `Version: 4.1.1` → `4.1.1`. */
export function versionLine(output: string): string {
  const first = output.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
  const m = /\bv(?:ersion)?[:=\s]\s*v?(\d+(?:\.\d+)+\S*)/i.exec(first) ?? /\b(\d+\.\d+(?:\.\d+)?\S*)/.exec(first);
  return m ? m[1]! : first || 'version unknown';
}
