/** The end of an attempt whose job another node holds now (docs/queue.md, fencing): nothing is posted from here. */
export class FencedError extends Error {
  override name = 'FencedError';
}
