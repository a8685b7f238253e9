import type { EventBatch } from '../events/event';
import type { Sink } from '../pipeline/stages';
import type { ReportBuilder } from './report-builder';

/** The `--diagnose` sink: feeds every batch to the report builder (aggregates only, keeps no events). */
export class ReportSink implements Sink {
  readonly name = 'diagnose';
  constructor(private readonly builder: ReportBuilder) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  consume(batch: EventBatch): void {
    this.builder.observe(batch.events);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
