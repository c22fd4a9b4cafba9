/** A supervised task's CPU time and memory, sampled while it runs and reported on its port. */
import type { MessagePort } from 'node:worker_threads';
import type { Task } from '../../runtime/task.js';
import { maxUsage, readCgroupUsage, type CgroupUsage } from './cgroup-usage.js';
import { send } from './port.js';

/** The task's cgroup path from its spec, or null when it names none. */
export function cgroupsPathOf(task: Task): string | null {
  const linux = task.info.spec.linux as { cgroupsPath?: unknown } | undefined;
  return typeof linux?.cgroupsPath === 'string' ? linux.cgroupsPath : null;
}

/** Usage samples: cheap cgroupfs reads (runc events when the cgroup is not readable); the max is kept. */
export class UsageSampler {
  usage: CgroupUsage | null = null;
  exited = false;
  constructor(
    private readonly task: Task,
    private readonly cgroupsPath: string | null,
    private readonly port: MessagePort,
  ) {}

  /** Takes one sample, keeps the larger values and reports it as a 'stats' event. */
  async sample(): Promise<void> {
    let u = this.cgroupsPath ? await readCgroupUsage(this.cgroupsPath) : null;
    if (!u && !this.exited) {
      u = await this.task.stats().then(
        (st) => ({ cpuMs: st.cpu.usageNs / 1e6, peakMemoryBytes: st.memory.maxUsageBytes, memoryBytes: st.memory.usageBytes }),
        () => null,
      );
    }
    this.usage = maxUsage(this.usage, u);
    if (u) send(this.port, { type: 'stats', cpuMs: u.cpuMs, peakMemoryBytes: u.peakMemoryBytes, memoryBytes: u.memoryBytes });
  }
}
