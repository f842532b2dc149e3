/** A number for the benchmark's tables and chart: thousands separated, fixed decimals, '-' when not measured. */
export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-'
