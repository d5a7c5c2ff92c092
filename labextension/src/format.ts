/**
 * Formatting of numbers, times, durations and sizes for the panel.
 */
import type { JsonFloat } from './models';

const SIGNIFICANT = 4;

const compact = new Intl.NumberFormat('en-US', {
  notation: 'compact',
  maximumSignificantDigits: SIGNIFICANT
});

/**
 * A metric value in at most 4 significant digits: `0.9123`, `12.35K`,
 * `1.235e-7`; the server's `"NaN"`, `"Infinity"`, `"-Infinity"` as `NaN`, `∞`, `-∞`.
 */
export function formatMetric(value: JsonFloat | string | null | undefined): string {
  if (value === null || value === undefined) {
    return '';
  }
  const number = toNumber(value);
  if (number === null) {
    return String(value);
  }
  return formatNumber(number);
}

/** Converts a metric as it travels (number or non-finite string) to a number. */
export function toNumber(value: JsonFloat | string): number | null {
  if (typeof value === 'number') {
    return value;
  }
  switch (value) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
  }
  const parsed = Number(value);
  return value.trim() !== '' && !Number.isNaN(parsed) ? parsed : null;
}

/** A number in at most 4 significant digits, compact for large magnitudes. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '-∞';
  }
  const magnitude = Math.abs(value);
  if (magnitude === 0) {
    return '0';
  }
  if (magnitude >= 1e15 || magnitude < 1e-3) {
    return trimExponent(value.toExponential(SIGNIFICANT - 1));
  }
  if (magnitude >= 1e4) {
    return compact.format(value);
  }
  return String(Number(value.toPrecision(SIGNIFICANT)));
}

/** `1.230e-7` -> `1.23e-7`. */
function trimExponent(text: string): string {
  const [mantissa, exponent] = text.split('e');
  const trimmed = mantissa.includes('.')
    ? mantissa.replace(/0+$/, '').replace(/\.$/, '')
    : mantissa;
  return `${trimmed}e${exponent.replace('+', '')}`;
}

/** The full value, for a tooltip. */
export function metricTitle(value: JsonFloat | string | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

/** Exact local time, for tooltips and the run header. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) {
    return '';
  }
  return new Date(ms).toLocaleString();
}

/** `just now`, `3 min ago`, `2 h ago`, `5 days ago`; a date past a month. */
export function formatRelative(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) {
    return '';
  }
  const seconds = Math.round((now - ms) / 1000);
  // A few minutes ahead is the server's clock, or a `now` that ticks every 30 s.
  if (seconds < -300) {
    return 'in the future';
  }
  if (seconds < 45) {
    return 'just now';
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  const days = Math.round(hours / 24);
  if (days < 31) {
    return days === 1 ? 'yesterday' : `${days} days ago`;
  }
  return new Date(ms).toLocaleDateString();
}

/** `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 3 min`, `3 d 4 h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const seconds = ms / 1000;
  if (seconds < 60) {
    return `${Number(seconds.toPrecision(3))} s`;
  }
  const total = Math.floor(seconds);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d > 0) {
    return h > 0 ? `${d} d ${h} h` : `${d} d`;
  }
  if (h > 0) {
    return m > 0 ? `${h} h ${m} min` : `${h} h`;
  }
  return s > 0 ? `${m} min ${s} s` : `${m} min`;
}

/** A run's duration: to its end, or to `now` while it has none. */
export function runDuration(
  info: { start_time: number; end_time?: number | null },
  now = Date.now()
): number {
  return (info.end_time ?? now) - info.start_time;
}

/** `512 B`, `1.5 KB`, `23 MB` (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 ? String(value) : String(Number(value.toPrecision(3)));
  return `${shown} ${units[unit]}`;
}

/** The first characters of a digest or commit, as `git log --oneline` shows them. */
export function shortHash(hash: string | null | undefined, length = 8): string {
  return hash ? hash.slice(0, length) : '';
}

/** When something ends: `in 23 h`, `in 6 days`; `expired 2 h ago` once past; `never` without an end. */
export function formatExpiry(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) {
    return 'never';
  }
  if (ms <= now) {
    return `expired ${formatRelative(ms, now)}`;
  }
  const minutes = Math.round((ms - now) / 60000);
  if (minutes < 60) {
    return `in ${Math.max(minutes, 1)} min`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 48) {
    return `in ${hours} h`;
  }
  return `in ${Math.round(hours / 24)} days`;
}
