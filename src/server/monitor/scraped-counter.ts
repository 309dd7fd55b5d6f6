/**
 * A Prometheus counter whose value is read from a running total at each scrape (the total lives
 * in the component that counts, e.g. the admission controller or the RESP server), so nothing is
 * observed per request.
 */
import { Counter, type Registry } from 'prom-client';

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
