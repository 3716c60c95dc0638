// Reads a collector's own telemetry: points accepted and sent, and items in/out of each processor.
import type { PipelineTelemetry } from '../../protocol/report.js';
import type { CapturedSample } from './exposition.js';

// Older collectors add `_total` to counters; both spellings are read.
const WANTED = /^otelcol_(receiver_accepted_metric_points|exporter_sent_metric_points|processor_incoming_items|processor_outgoing_items)(_total)?$/;

export function wantsTelemetrySample(name: string): boolean {
  return WANTED.test(name);
}

/** Sums the captured samples into the report's shape. Processors are listed in first-seen order. */
export function summarizeTelemetry(samples: readonly CapturedSample[]): PipelineTelemetry {
  let accepted: number | null = null;
  let sent: number | null = null;
  const flows = new Map<string, { incoming: number; outgoing: number }>();
  for (const { name, labels, value } of samples) {
    const kind = WANTED.exec(name)?.[1];
    if (kind === undefined || !Number.isFinite(value)) continue;
    if (kind === 'receiver_accepted_metric_points') accepted = (accepted ?? 0) + value;
    else if (kind === 'exporter_sent_metric_points') sent = (sent ?? 0) + value;
    else {
      if (labels.otel_signal !== undefined && labels.otel_signal !== 'metrics') continue;
      const processor = labels.processor ?? '(unnamed)';
      const flow = flows.get(processor) ?? { incoming: 0, outgoing: 0 };
      if (kind === 'processor_incoming_items') flow.incoming += value;
      else flow.outgoing += value;
      flows.set(processor, flow);
    }
  }
  return {
    acceptedPoints: accepted,
    sentPoints: sent,
    processors: [...flows].map(([processor, flow]) => ({ processor, ...flow })),
  };
}
