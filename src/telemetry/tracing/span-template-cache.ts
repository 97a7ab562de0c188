/**
 * SpanTemplateCache: the span templates an encoder of server-span records has made (JSON:
 * server-span-records.ts; protobuf: otlp-protobuf-records.ts), by the facts object they were
 * made for, with the parent presence and tracestate they were made with.
 *
 * A record encodes like a template, but for its ids and times, when it has the template's facts
 * object, a parent exactly when the template has one, and the same tracestate. The encoders
 * first try the current template (the last one made or taken up: most records repeat the one
 * before); otherwise a kept one. Requests of a few routes, or with and without `traceparent`,
 * interleaved then take theirs up again instead of each being written in full and making a new
 * template (`MIXED=1` in bench/telemetry loads a server with such traffic).
 */
import type { ServerSpanFacts } from './server-span-facts.js';
import type { SpanContext } from './w3c-trace-context.js';

/** Facts objects whose templates are kept: they change with every new route, client or status. */
const MAX_FACTS = 64;
/** Templates kept per facts object (with and without a parent, a few tracestates). */
const MAX_PER_FACTS = 4;

interface Kept<T> {
  readonly template: T;
  readonly traceState: string | undefined;
}

/** Templates by facts object, parent presence and tracestate (see the file comment). */
export class SpanTemplateCache<T extends { readonly parentAt: number }> {
  /** The template last made or taken up, and the facts and tracestate it was made for. */
  current: T | undefined;
  private currentFacts: ServerSpanFacts | undefined;
  private currentTraceState: string | undefined;
  private readonly kept = new Map<ServerSpanFacts, Kept<T>[]>();

  /** True when a record of `facts` and `parent` encodes like the current template. */
  fits(facts: ServerSpanFacts | undefined, parent: SpanContext | undefined): boolean {
    const template = this.current;
    return (
      template !== undefined &&
      facts === this.currentFacts &&
      (parent === undefined) === template.parentAt < 0 &&
      parent?.traceState === this.currentTraceState
    );
  }

  /** The template a record of `facts` and `parent` encodes like, made current; else undefined. */
  find(facts: ServerSpanFacts, parent: SpanContext | undefined): T | undefined {
    if (this.fits(facts, parent)) return this.current;
    const entries = this.kept.get(facts);
    if (entries === undefined) return undefined;
    for (const entry of entries) {
      if ((parent === undefined) === entry.template.parentAt < 0 && parent?.traceState === entry.traceState) {
        this.use(entry.template, facts, entry.traceState);
        return entry.template;
      }
    }
    return undefined;
  }

  /** Keeps `template`, made from a record of `facts` and `parent`, and makes it current. */
  keep(template: T, facts: ServerSpanFacts, parent: SpanContext | undefined): void {
    const traceState = parent?.traceState;
    this.use(template, facts, traceState);
    if (this.kept.size >= MAX_FACTS) this.kept.clear();
    const entries = this.kept.get(facts);
    if (entries === undefined) this.kept.set(facts, [{ template, traceState }]);
    else if (entries.length < MAX_PER_FACTS) entries.push({ template, traceState });
  }

  private use(template: T, facts: ServerSpanFacts, traceState: string | undefined): void {
    this.current = template;
    this.currentFacts = facts;
    this.currentTraceState = traceState;
  }
}
