// The recommendations service: scores the catalogue against a product in memory. CPU-bound: no
// I/O at all while it computes (~150 ms of a busy event loop per request).
'use strict';
const express = require('express');
const tracing = require('../lib/tracing');
const { listen, route } = require('../lib/service');

const DIMENSIONS = 64;
const CATALOGUE = Array.from({ length: 5000 }, (_, i) =>
  Float64Array.from({ length: DIMENSIONS }, (_, d) => Math.sin((i + 1) * (d + 1)))
);
const BUDGET_MS = Number(process.env.SCORING_MS || 150);

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let d = 0; d < DIMENSIONS; d++) {
    dot += a[d] * b[d];
    na += a[d] * a[d];
    nb += b[d] * b[d];
  }
  return dot / Math.sqrt(na * nb);
}

// Scores the catalogue pass after pass (re-ranking with a perturbed query vector) until the
// scoring budget is used: a fixed CPU time whatever the machine's speed.
function similar(productId) {
  const query = Float64Array.from(CATALOGUE[productId % CATALOGUE.length]);
  const deadline = process.hrtime.bigint() + BigInt(BUDGET_MS) * 1000000n;
  let best = [];
  for (let pass = 0; process.hrtime.bigint() < deadline; pass++) {
    query[pass % DIMENSIONS] += 1e-3;
    best = CATALOGUE.map((v, id) => ({ id, score: cosine(query, v) }))
      .sort((x, y) => y.score - x.score)
      .slice(0, 5);
  }
  return best;
}

const app = express();
tracing.instrument(app);
app.get('/similar/:id', route(async (req, res) => res.json(similar(Number(req.params.id)))));
// A cheap endpoint (live.one_system's --http target): polling /similar would add chokepoint's own
// CPU load to a single-threaded, CPU-bound callee, and the queueing behind it to every caller.
app.get('/health', route(async (req, res) => res.json({ ok: true })));
listen(app);
