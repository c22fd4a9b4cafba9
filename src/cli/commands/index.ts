import type { CommandEntry } from '../command.js';

/**
 * Every command of the CLI, in the order `stasis --help` lists them: name and summary here, the
 * module loaded only when its command runs (importing every command eagerly pulled in bullmq,
 * ioredis, … and cost ~0.8 s per CLI call). Add a command with one line here; name and summary must
 * match the module's (test/unit/cli/commands.test.ts checks). main.ts dispatches on the longest
 * matching name ('task create' before 'task').
 */
export const commands: CommandEntry[] = [
  { name: 'task create', summary: 'create a task from a rootfs and a command (start it with task start)', load: async () => (await import('./task-create.js')).taskCreate },
  { name: 'task start', summary: 'start a created task', load: async () => (await import('./task-start.js')).taskStart },
  { name: 'task state', summary: 'show the status, pid and exit of a task', load: async () => (await import('./task-state.js')).taskState },
  { name: 'task list', summary: 'list the tasks of a namespace', load: async () => (await import('./task-list.js')).taskList },
  { name: 'task logs', summary: "print a task's output (--follow to stream it)", load: async () => (await import('./task-logs.js')).taskLogs },
  { name: 'task kill', summary: 'send a signal to a task', load: async () => (await import('./task-kill.js')).taskKill },
  { name: 'task pause', summary: 'freeze a running task', load: async () => (await import('./task-pause.js')).taskPause },
  { name: 'task resume', summary: 'thaw a paused task', load: async () => (await import('./task-pause.js')).taskResume },
  { name: 'task exec', summary: 'run another process inside a running task', load: async () => (await import('./task-exec.js')).taskExec },
  { name: 'task ps', summary: 'list the processes of a task', load: async () => (await import('./task-ps.js')).taskPs },
  { name: 'task stats', summary: 'show CPU, memory and pids usage of a task', load: async () => (await import('./task-stats.js')).taskStats },
  { name: 'task update', summary: 'change the memory, cpu or pids limits of a task', load: async () => (await import('./task-update.js')).taskUpdate },
  { name: 'task checkpoint', summary: 'checkpoint a running task into a directory (CRIU)', load: async () => (await import('./task-checkpoint.js')).taskCheckpoint },
  { name: 'task restore', summary: 'restore a task from a checkpoint directory', load: async () => (await import('./task-restore.js')).taskRestore },
  { name: 'task wait', summary: 'wait for a task to stop; exit with its status', load: async () => (await import('./task-wait.js')).taskWait },
  { name: 'task delete', summary: 'delete a stopped task (--force kills it first)', load: async () => (await import('./task-delete.js')).taskDelete },
  { name: 'task resize', summary: "resize a tty task's terminal", load: async () => (await import('./task-resize.js')).taskResize },
  { name: 'image pull', summary: "pull an image into the node's store and unpack it (a progress bar on a terminal)", load: async () => (await import('./image-pull.js')).imagePull },
  { name: 'image ls', summary: "list the images in the node's store", load: async () => (await import('./image-ls.js')).imageLs },
  { name: 'image inspect', summary: 'show a stored image: digest, references, layers, config, unpacked rootfs directories', load: async () => (await import('./image-inspect.js')).imageInspect },
  { name: 'image rm', summary: "remove images from the node's store (never one a running task has mounted)", load: async () => (await import('./image-rm.js')).imageRm },
  { name: 'image prune', summary: 'remove least recently used images that no task has mounted, down to a size', load: async () => (await import('./image-prune.js')).imagePrune },
  { name: 'doctor', summary: 'check the host: runc, conmon, CRIU, iptables, cgroups, overlayfs, redis, busybox, tini, user namespaces, root', load: async () => (await import('./doctor.js')).doctor },
  { name: 'run', summary: 'run one job, stream its output and exit with its status', load: async () => (await import('./run.js')).runCommand },
  { name: 'submit', summary: 'add a job to the queue and print its id', load: async () => (await import('./submit.js')).submitCommand },
  { name: 'status', summary: "show a job's state, attempts and outcome", load: async () => (await import('./status.js')).statusCommand },
  { name: 'logs', summary: "print a job's output (-f: follow until it finishes)", load: async () => (await import('./logs.js')).logsCommand },
  { name: 'result', summary: 'print the result envelope of a finished job (--wait to wait for it)', load: async () => (await import('./result.js')).resultCommand },
  { name: 'cancel', summary: 'cancel a job (its container is stopped; the result says cancelled)', load: async () => (await import('./cancel.js')).cancelCommand },
  { name: 'serve', summary: 'Run a runner node: take jobs from the queue and run them in containers', load: async () => (await import('./serve.js')).serveCommand },
  { name: 'job pause', summary: "freeze a running job's processes", load: async () => (await import('./job-pause.js')).jobPause },
  { name: 'job resume', summary: 'thaw a paused job', load: async () => (await import('./job-pause.js')).jobResume },
  { name: 'job kill', summary: "send a signal to a running job's processes", load: async () => (await import('./job-kill.js')).jobKill },
  { name: 'job exec', summary: "run a command inside a running job's container", load: async () => (await import('./job-exec.js')).jobExec },
  { name: 'job ps', summary: "list a running job's processes", load: async () => (await import('./job-ps.js')).jobPs },
  { name: 'job stats', summary: "show a running job's CPU, memory and pids usage and limits", load: async () => (await import('./job-ps.js')).jobStats },
  { name: 'job update', summary: "change a running job's memory, cpu or pids limits", load: async () => (await import('./job-update.js')).jobUpdate },
  { name: 'job resize', summary: "resize a running terminal job's pty", load: async () => (await import('./job-resize.js')).jobResize },
  { name: 'job checkpoint', summary: 'checkpoint a running job (CRIU) and keep it running', load: async () => (await import('./job-checkpoint.js')).jobCheckpoint },
  { name: 'job migrate', summary: 'move a running job to another node (checkpoint, hand back, restore there)', load: async () => (await import('./job-migrate.js')).jobMigrate },
];
