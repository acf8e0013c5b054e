/**
 * seeded: a small deterministic generator (mulberry32) for generated test cases, so every run checks the
 * same cases; rnd(n) is an integer in [0, n). Its low bits are usable, unlike a plain LCG's.
 */
export function seeded(seed: number): (n: number) => number {
  let s = seed | 0;
  return (n) => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}
