/**
 * A Prometheus counter whose value is read from a running total at each scrape (the total lives
 * in the component that counts, e.g. the admission controller, the RESP server or a node's
 * request lanes), so nothing is observed per request.
 */
import { Counter, type LabelValues, type Registry } from 'prom-client';

/** Registers `name` in `registry`; each scrape reports `read()`. */
export function scrapedCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** One labelled series of a scraped counter: its label values and running total. */
export type ScrapedSeries<L extends string> = readonly [labels: LabelValues<L>, total: number];

/** Registers `name` with `labelNames`; each scrape reports exactly the series `read()` gives. */
export function scrapedCounterByLabel<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<ScrapedSeries<L>>,
): Counter<L> {
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, total] of read()) this.inc(labels, total);
    },
  });
}
