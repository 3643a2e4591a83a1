// bench/stats.mjs: the figures every benchmark reports — medians, rounding, per-round ranges.

/** The median of `xs` (the mean of the middle two for an even count). */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** `x` to `digits` decimals; null (or undefined) stays null. */
export const round = (x, digits = 2) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));

/** [min, max] of `xs`, rounded: the range of a ratio computed round by round. */
export const range = (xs) => [round(Math.min(...xs)), round(Math.max(...xs))];

/** `num[i] / den[i]` for each round i. */
export const ratios = (num, den) => num.map((x, i) => x / den[i]);
