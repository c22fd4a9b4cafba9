/**
 * The node policy: what the operator of a runner node allows and what a job gets when its payload
 * says nothing. Producers never change it; a payload that asks for more is refused with
 * ERR_PERMISSION_DENIED (docs/security.md). Loaded from a JSON file, environment and flags (load.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { byteSizeSchema, cpusSchema, durationOrZeroSchema, durationSchema } from '../config/units.js';
import { IdMappingSchema } from '../config/schema.js';
import { ImagePolicySchema } from '../image/policy.js';

/** Namespaces, task ids and the like (as the payload's `namespace`). */
const NAMESPACE_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

const absPath = z.string().refine((p) => path.isAbsolute(p) && !p.includes('\0'), { message: 'Expected an absolute path' });

/** One set of limits (defaults or maxima); bytes in bytes, durations in seconds. */
export const LimitSetSchema = z
  .object({
    memory: byteSizeSchema.optional(),
    cpus: cpusSchema.optional(),
    pids: z.number().int().positive().max(4_194_304).optional(),
    /** Wall clock from the first start. */
    timeout: durationSchema.optional(),
    /** CPU seconds of the job's cgroup. */
    cpuTime: durationSchema.optional(),
    /** The writable layer (the container's whole filesystem above the read-only rootfs). */
    disk: byteSizeSchema.optional(),
    /** stdout and stderr each, in the result and in job.log; also bounds the log on disk. */
    outputBytes: byteSizeSchema.optional(),
    /** SIGTERM → SIGKILL on timeout, cpu-time and cancel. */
    killGrace: durationOrZeroSchema.optional(),
  })
  .strict();
/** One set of limits, parsed. */
export type LimitSet = z.output<typeof LimitSetSchema>;

/** Overrides for one namespace (tenant). */
export const NamespaceRulesSchema = z
  .object({
    defaults: LimitSetSchema.optional(),
    max: LimitSetSchema.optional(),
    allowHostNetwork: z.boolean().optional(),
  })
  .strict();

/** The node policy file (every field optional; see DEFAULT_POLICY). */
export const NodePolicySchema = z
  .object({
    /** Directories whose subdirectories (or themselves) a payload's `rootfs` may name, besides the node's default rootfs. */
    allowedRootfs: z.array(absPath).default([]),
    /** May a payload ask for `network: "host"`? */
    allowHostNetwork: z.boolean().default(false),
    /** Limits of a payload that sets none. */
    defaults: LimitSetSchema.default({}),
    /** Limits no payload may exceed. */
    max: LimitSetSchema.default({}),
    /** Per-namespace overrides of defaults, maxima and host networking. */
    namespaces: z.record(z.string().regex(NAMESPACE_RE, 'Expected a namespace name'), NamespaceRulesSchema).default({}),
    /** User namespaces: 'private' = the default mapping, a mapping, or 'host' (off; container root is host root). */
    userns: z.union([z.literal('private'), z.literal('host'), IdMappingSchema]).default('private'),
    /** Seccomp: 'default' (stasis' profile), 'unconfined', or the path of an OCI `linux.seccomp` JSON file. */
    seccomp: z.union([z.literal('default'), z.literal('unconfined'), absPath]).default('default'),
    /** The largest job payload (its JSON) a node takes. */
    maxPayloadBytes: byteSizeSchema.default(4 * 1024 * 1024),
    /** Images: allowed registries and layouts, pull policy, credentials file, size caps (docs/images.md). */
    images: ImagePolicySchema.default({}),
  })
  .strict();
/** A node policy as given (file/flags). */
export type NodePolicyInput = z.input<typeof NodePolicySchema>;
/** A parsed node policy (before the built-in defaults are merged: see effectiveLimits). */
export type NodePolicy = z.output<typeof NodePolicySchema>;

/** Every limit a job runs with (after its payload, the namespace rules and the node defaults). */
export interface EffectiveLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  timeoutSeconds: number;
  cpuTimeSeconds?: number;
  diskBytes: number;
  outputBytes: number;
  killGraceMs: number;
}

/** Built-in defaults: what a payload without limits gets when the policy does not say. */
export const BUILTIN_DEFAULTS = {
  memory: 512 * 1024 ** 2,
  cpus: 1,
  pids: 512,
  timeout: 3600,
  disk: 256 * 1024 ** 2,
  outputBytes: 1024 * 1024,
  killGrace: 2,
} as const;

/** Built-in maxima: what no payload may exceed when the policy does not say. */
export const BUILTIN_MAX = {
  memory: 16 * 1024 ** 3,
  cpus: Math.max(1, os.availableParallelism()),
  pids: 32_768,
  timeout: 24 * 24 * 3600,
  cpuTime: 24 * 24 * 3600,
  disk: 16 * 1024 ** 3,
  outputBytes: 64 * 1024 ** 2,
  killGrace: 60,
} as const;

/** The policy of a node started without any policy input. */
export const DEFAULT_POLICY: NodePolicy = NodePolicySchema.parse({});
