import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real worker threads; give them room on a 2-core machine.
    testTimeout: 30_000,
    // Three files at a time on a 2-core machine: the integration files spend most of their time
    // waiting on node processes, browsers and sockets, so a third worker fills the idle core
    // (measured on the 2-core machine: the suite took 329 s with the default of 2, 211 s with 3).
    maxWorkers: 3,
    hookTimeout: 30_000,
  },
});
