/**
 * Gossip membership report (simulated, virtual time).
 *
 *   node --import tsx bench/gossip.bench.ts
 *
 * 1. Gossip rounds to full convergence (every node knows every other as alive) for 8, 32 and
 *    128 nodes that start knowing one seed: min / median / max over 20 seeds, vs 2·log2(n).
 * 2. False positives (live nodes declared dead) under 10 % loss: 16 nodes, 200 probe
 *    intervals, default settings, 20 seeds.
 * 3. Time for every node to declare a crashed node dead under 10 % loss.
 */
import { GossipSim, roundsToConverge } from '../src/sim/gossip-sim.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

function stats(xs: number[]): string {
  const s = xs.slice().sort((x, y) => x - y);
  const median = s[Math.floor(s.length / 2)]!;
  return `min ${s[0]} / median ${median} / max ${s[s.length - 1]}`;
}

console.log(
  'rounds to full convergence (gossip interval 200 ms, every node starts knowing one seed node)',
);
for (const loss of [0, 0.1]) {
  for (const n of [8, 32, 128]) {
    const goal = 2 * Math.log2(n);
    const rounds = SEEDS.map(
      (seed) => roundsToConverge({ nodes: n, seed, lossRate: loss }, 100) ?? Infinity,
    );
    const within = rounds.filter((r) => r <= goal).length;
    console.log(
      `  loss ${loss * 100}% n=${String(n).padStart(3)}: ${stats(rounds)}  goal <= ${goal}  within goal ${within}/${SEEDS.length}`,
    );
  }
}

let falseDeaths = 0;
let sent = 0;
let lost = 0;
for (const seed of SEEDS) {
  const sim = new GossipSim({ nodes: 16, seed, lossRate: 0.1 });
  sim.runUntil(200 * sim.config.probeIntervalMs);
  falseDeaths += sim.falseDeaths().length;
  sent += sim.messagesSent;
  lost += sim.messagesLost;
}
console.log(
  `false positives under 10% loss (16 nodes, 200 probe intervals, ${SEEDS.length} seeds): ${falseDeaths} dead verdicts about live nodes (${lost} of ${sent} messages lost)`,
);

const detectSec: number[] = [];
for (const seed of SEEDS) {
  const sim = new GossipSim({ nodes: 16, seed, lossRate: 0.1 });
  sim.runUntil(5_000);
  sim.crash(3);
  const t0 = sim.nowMs;
  sim.runUntil(t0 + 300_000, () => sim.crashedDeclaredDead());
  detectSec.push(sim.crashedDeclaredDead() ? Math.round((sim.nowMs - t0) / 100) / 10 : Infinity);
}
console.log(`crash → dead at every node, 16 nodes, 10% loss (s): ${stats(detectSec)}`);
