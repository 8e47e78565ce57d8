/**
 * An inclusive range of protocol versions.
 *
 * @module
 */

/** Versions `min` to `max`, both included. */
export interface VersionRange {
  /** Lowest version. */
  readonly min: number;
  /** Highest version. */
  readonly max: number;
}

/**
 * Whether `version` lies in `range`.
 *
 * @example
 * ```ts
 * inRange(3, { min: 0, max: 13 }); // true
 * ```
 */
export function inRange(version: number, range: VersionRange): boolean {
  return version >= range.min && version <= range.max;
}

/**
 * The overlap of two ranges, or undefined when they do not overlap.
 *
 * @example
 * ```ts
 * intersectRanges({ min: 0, max: 13 }, { min: 3, max: 18 }); // { min: 3, max: 13 }
 * ```
 */
export function intersectRanges(a: VersionRange, b: VersionRange): VersionRange | undefined {
  const min = Math.max(a.min, b.min);
  const max = Math.min(a.max, b.max);
  return min <= max ? { min, max } : undefined;
}
