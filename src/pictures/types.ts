/**
 * What a chart is drawn from: the series of one summary (the shape `mqtt_summarize` returns),
 * the time range it covers, the bucket width, and the periods when the bridge was offline (the
 * shape `mqtt_find_silent` returns as `bridgeOffline`). Times are ISO 8601 strings, values
 * finite numbers; a bucket without data (`count` 0) has no min, max or mean.
 */

export interface ChartBucket {
  /** Start of the bucket, ISO 8601; it ends where the next one starts (or at the range's end). */
  readonly start: string;
  readonly count: number;
  readonly min?: number;
  readonly max?: number;
  readonly mean?: number;
}

export interface ChartSeries {
  readonly topic: string;
  /** Dot path of the numeric field (`temp`, `sensors.0.value`); empty for a payload that is a number. */
  readonly field: string;
  /** Unit of the values, from the operator's catalog (`°C`), when it gives one. */
  readonly unit?: string;
  readonly buckets: readonly ChartBucket[];
}

export interface OfflinePeriod {
  readonly from: string;
  /** Absent while the bridge is still offline. */
  readonly to?: string;
}

export interface ChartInput {
  readonly series: readonly ChartSeries[];
  readonly from: string;
  readonly to: string;
  readonly bucketSeconds: number;
  readonly offline?: readonly OfflinePeriod[];
}

export interface ChartOptions {
  /** Pixels; clamped to CHART_LIMITS. */
  readonly width?: number;
  readonly height?: number;
  /** IANA time zone of the time axis (default UTC); see isTimeZone(). */
  readonly timeZone?: string;
}

/** The bounds every chart keeps, whatever its input. */
export const CHART_LIMITS = {
  defaultWidth: 800,
  defaultHeight: 400,
  minWidth: 320,
  maxWidth: 1600,
  minHeight: 200,
  maxHeight: 1000,
  /** Series drawn; the legend says how many more there were. */
  maxSeries: 8,
  /** Buckets drawn per series (the summary's own maximum). */
  maxBuckets: 200,
  /** Offline periods shaded. */
  maxOffline: 100,
  /** Characters of a topic, field and unit in the legend and on the axes. */
  topicChars: 56,
  fieldChars: 28,
  unitChars: 12,
} as const;
