import { describe, expect, it } from 'vitest';
import { operatorPolicy } from '../../../src/cli/commands/run.js';
import { parseJobRequest } from '../../../src/cli/job-flags.js';

describe("stasis run's in-process runner", () => {
  it("allows the registry of the user's --image", { timeout: 30_000 }, () => {
    const p = operatorPolicy(parseJobRequest(['--image', 'registry.example:5000/team/tool:1.4'], {}, 'run'), {});
    expect(p.images.allowedRegistries).toContain('registry.example:5000');
  });

  it("allows the OCI layout of the user's --image", () => {
    const p = operatorPolicy(parseJobRequest(['--image', 'oci:/srv/layouts/tool:v1'], {}, 'run'), {});
    expect(p.images.allowedLayouts).toContain('/srv/layouts/tool');
  });

  it('allows host networking when the user asks for it with --network', () => {
    expect(operatorPolicy(parseJobRequest(['--network', 'host', '--', 'true'], {}, 'run'), {}).allowHostNetwork).toBe(true);
    expect(operatorPolicy(parseJobRequest(['--', 'true'], {}, 'run'), {}).allowHostNetwork).toBe(false);
  });
});
