/**
 * Order statistics on Float64Array prefixes, shared by the median filter, the
 * noise estimator and wavelet shrinkage (one selection routine, not three).
 */

/** k-th smallest (0-based) of a[0..n), reordering a in place (Hoare's selection, median-of-three pivot). */
export function selectKth(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** numpy.median of a[0..n) (the mean of the two middle values when n is even), reordering a. */
export function medianInPlace(a: Float64Array, n: number): number {
  const k = n >> 1;
  const upper = selectKth(a, n, k);
  if (n % 2 === 1) return upper;
  // after selection a[0..k) are all <= a[k]; the lower middle is their maximum
  let lower = -Infinity;
  for (let i = 0; i < k; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}
