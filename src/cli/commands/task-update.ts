import { parseKeyValues, usageError } from '../args.js';
import { RESOURCE_OPTIONS, resourcesFromFlags } from '../resource-flags.js';
import { taskCommand } from '../task-command.js';

/** `stasis task update ID`: changes the limits (and annotations) of a running task. */
export const taskUpdate = taskCommand({
  verb: 'update',
  summary: 'change the memory, cpu or pids limits of a task',
  about: "Changes the task's cgroup limits in place (runc update); annotations are merged into its record.",
  flags: {
    ...RESOURCE_OPTIONS,
    annotation: { type: 'string', multiple: true, value: 'K=V', help: "annotation merged into the task's record" },
  },
  check(values) {
    const resources = resourcesFromFlags(values);
    const annotations = parseKeyValues(values.annotation, 'annotation');
    const hasAnnotations = Object.keys(annotations).length > 0;
    if (Object.keys(resources).length === 0 && !hasAnnotations) {
      throw usageError('nothing to update: give --memory, --cpus, --pids, --cpu-shares, --memory-swap or --annotation');
    }
    return { resources, annotations: hasAnnotations ? annotations : undefined };
  },
  async act({ task, input }) {
    await task.update(input.resources, input.annotations);
  },
});
