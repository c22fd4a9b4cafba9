/**
 * The `stasis <verb> [options] JOB_ID` commands that read or act on one job through the queue
 * (status, logs, result, cancel): each declares its flags and what it does with the client; taking
 * the id, resolving the flags, connecting and closing happen here, in that order, for all of them.
 */
import type { CliIO, Command } from './command.js';
import { resolveGlobals, type GlobalFlagValues } from './args.js';
import { QUEUE_OPTIONS, withJobClient } from './job-client.js';
import type { OptionSpecs } from './options.js';
import { idCommand, type FlagValues, type IdCommandRow } from './table-command.js';
import type { StasisClient } from '../queue/client.js';

/** A job verb's own flags (--json among them) plus where the queue is, listed last. */
export type JobVerbFlags<T extends OptionSpecs> = T & typeof QUEUE_OPTIONS;

/** What a job verb's act() is given. */
export interface JobVerbCall<V> {
  /** The job id from the command line. */
  jobId: string;
  /** A client on the flags' queue, closed once act() is done. */
  client: StasisClient;
  /** The parsed flags. */
  values: V;
  /** Whether --json was given. */
  json: boolean;
  io: CliIO;
}

/** One `<verb> JOB_ID` command, as a row: its texts, its flags and its work. */
export interface JobVerbSpec<T extends OptionSpecs> extends IdCommandRow<T> {
  /** The command's name ('status'). */
  name: string;
  /** Reads or acts on the job and prints the outcome; resolves to the exit code (nothing means 0). */
  act(call: JobVerbCall<FlagValues<JobVerbFlags<T>>>): Promise<number | void>;
}

/** The parsed values every job verb's table holds. */
interface QueueFlagValues extends GlobalFlagValues {
  redis?: string | undefined;
  queue?: string | undefined;
}

/** The family of job verbs: the id is a job's, and every verb takes the queue flags. */
const JOB_FAMILY = { id: 'JOB_ID', idName: 'JOB_ID', shared: QUEUE_OPTIONS };

/** Builds the Command of a `<verb> [options] JOB_ID` row. */
export function jobCommand<const T extends OptionSpecs>(spec: JobVerbSpec<T>): Command {
  return idCommand(spec.name, spec, JOB_FAMILY, async (jobId, { values }, io) => {
    // The table ends with QUEUE_OPTIONS, so its values say where the queue is.
    const q = values as QueueFlagValues;
    const g = resolveGlobals(q, io.env);
    return withJobClient({ redis: q.redis, queue: q.queue, stateDir: g.stateDir, env: io.env }, async ({ client }) => {
      return (await spec.act({ jobId, client, values, json: g.json, io })) ?? 0;
    });
  });
}
