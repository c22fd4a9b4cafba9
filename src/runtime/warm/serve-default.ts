/**
 * The pool size `stasis serve` uses unless told otherwise (--warm-pool). Three, not two: in a
 * closed loop of `true` jobs a third slot took the wait for a preparation from 18 to 11.5 ms (p50,
 * eight interleaved bench pairs); a fourth changed nothing more (docs/bench.md).
 */
export const SERVE_WARM_POOL = 3;
