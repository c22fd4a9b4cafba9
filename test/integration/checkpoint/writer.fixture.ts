// Run by fs-store.int.test.ts in a separate process (vite-node): commits N checkpoints of one job.
import fs from 'node:fs/promises';
import path from 'node:path';
import { openFsCheckpointStore } from '../../../src/checkpoint/fs-store.js';
import { HOST } from '../../unit/checkpoint/fixtures.js';

const [root, jobId, nodeId, count] = process.argv.slice(2);
const store = await openFsCheckpointStore({ root: root!, nodeId: nodeId!, host: HOST });
const seqs: number[] = [];
for (let i = 0; i < Number(count); i++) {
  const p = await store.allocate(jobId!);
  await fs.mkdir(path.join(p.path, 'criu'));
  await fs.writeFile(path.join(p.path, 'criu', 'pages-1.img'), `${nodeId} ${i}\n`.repeat(1000));
  seqs.push((await store.commit(p, { taskId: `${nodeId}-${i}` })).seq);
}
process.stdout.write(JSON.stringify(seqs));
