// Open-loop, fixed-rate load generator for the webhook intake benchmark (bench/webhook_intake.py).
//
// Sends signed GitHub deliveries (X-Hub-Signature-256 over the body, a unique X-GitHub-Delivery
// `<tag>-<n>` per request) at a fixed rate, whatever the server does: request n is due at
// start + n / rate, and its latency is measured from that *scheduled* time to the end of the
// response, so a server (or generator) stall shows up in the latencies instead of silently
// lowering the rate (no coordinated omission). Only Node's built-in modules are used.
//
// node bench/webhook_load.mjs --url http://127.0.0.1:8000/webhooks/github --body payload.json
//      --secret S --tag run-1 [--rate 1500] [--seconds 60] [--warmup 0] [--sockets 2048]
//      [--event pull_request] [--timeout 10] [--drain 15]
// or, for a mix of events, --mix mix.json instead of --body and --event: a JSON array of
// {"event": "push", "body": "path/to/payload.json"}, request n sending entry n modulo its length
// (each body is read and signed once, so a mix costs the generator no more than one payload).
//
// Prints one JSON object: sent, acked (2xx), errors by kind, achieved rates, latency percentiles in
// ms (nearest rank, over acknowledged requests), how late the generator itself sent, and whether a
// request ever had to wait for a free socket (`waitedForSocket`, which should be 0), and a timeline:
// [acknowledged, p50, p99, max] for each second of scheduled time. Before the measured seconds a
// warm-up ramps from 0 to the rate over --warmup seconds (same tag; counted under `warmup`, left
// out of the latencies).

import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" },
    body: { type: "string" },
    secret: { type: "string" },
    tag: { type: "string" },
    event: { type: "string", default: "pull_request" },
    mix: { type: "string" },
    rate: { type: "string", default: "1500" },
    seconds: { type: "string", default: "60" },
    warmup: { type: "string", default: "0" },
    sockets: { type: "string", default: "2048" },
    timeout: { type: "string", default: "10" },
    drain: { type: "string", default: "15" },
  },
});
for (const name of ["url", "secret", "tag", ...(opts.mix ? [] : ["body"])]) {
  if (!opts[name]) {
    console.error(`--${name} is required (see the header of bench/webhook_load.mjs)`);
    process.exit(2);
  }
}

const rate = Number(opts.rate);
const seconds = Number(opts.seconds);
const warmupCount = Math.round((Number(opts.warmup) * rate) / 2);
const measuredCount = Math.round(seconds * rate);
const total = warmupCount + measuredCount;
const maxSockets = Number(opts.sockets);
const timeoutMs = Number(opts.timeout) * 1000;
const interval = 1000 / rate; // ms between scheduled sends

const target = new URL(opts.url);
// What request n sends: entry n modulo the list's length, each body read and signed once.
const entries = (opts.mix ? JSON.parse(readFileSync(opts.mix, "utf8")) : [{ event: opts.event, body: opts.body }])
  .map(({ event, body: path }) => {
    const body = readFileSync(path);
    return { event, body, signature: "sha256=" + createHmac("sha256", opts.secret).update(body).digest("hex") };
  });
const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: "lifo" });

// ms from the scheduled time to the end of the response, per measured request (NaN: not acknowledged)
const latencies = new Float64Array(measuredCount).fill(NaN);
const sendLag = new Float64Array(total); // ms between the scheduled and the actual send
const counts = { sent: 0, acked: 0, warmupSent: 0, warmupAcked: 0 };
const errors = {};
let inflight = 0;
let maxInflight = 0;
let waitedForSocket = 0;
let socketsOpened = 0;
let lastDone = 0;
let start = 0;

function countError(kind) {
  errors[kind] = (errors[kind] || 0) + 1;
}

// Warm-up ramps linearly from 0 to `rate` over `warmup` seconds (n requests by time t: rate t^2 / 2w),
// so a cold server is not met by a backlog; measured requests then follow at exactly `rate`.
const warmupMs = Number(opts.warmup) * 1000;
function dueAt(n) {
  if (n < warmupCount) return start + Math.sqrt((2 * warmupMs * n) / rate * 1000);
  return start + warmupMs + (n - warmupCount) * interval;
}

function send(n) {
  const due = dueAt(n);
  const now = performance.now();
  sendLag[n] = now - due;
  const warm = n < warmupCount;
  if (warm) counts.warmupSent++;
  else counts.sent++;
  if (inflight >= maxSockets) waitedForSocket++;
  inflight++;
  if (inflight > maxInflight) maxInflight = inflight;
  const { event, body, signature } = entries[n % entries.length];
  let finished = false;
  const finish = (kind) => {
    if (finished) return;
    finished = true;
    inflight--;
    const end = performance.now();
    lastDone = end;
    if (kind === "ok") {
      if (warm) counts.warmupAcked++;
      else {
        counts.acked++;
        latencies[n - warmupCount] = end - due;
      }
    } else if (!warm) {
      countError(kind);
    } else {
      countError(`warmup_${kind}`);
    }
  };
  const request = http.request({
    agent, host: target.hostname, port: target.port, path: target.pathname + target.search, method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Content-Length": body.length,
      "User-Agent": "GitHub-Hookshot/flowport-bench",
      "X-GitHub-Event": event,
      "X-GitHub-Delivery": `${opts.tag}-${n}`,
      "X-Hub-Signature-256": signature,
    },
  }, (response) => {
    response.on("data", () => {});
    response.on("end", () => finish(response.statusCode >= 200 && response.statusCode < 300
      ? "ok" : `status_${response.statusCode}`));
    response.on("error", (error) => finish(error.code || "response_error"));
  });
  request.on("socket", (socket) => {
    if (!socket.flowportSeen) {
      socket.flowportSeen = true;
      socketsOpened++;
    }
  });
  request.setTimeout(timeoutMs, () => request.destroy(Object.assign(new Error("timeout"), { code: "timeout" })));
  request.on("error", (error) => finish(error.code || "request_error"));
  request.end(body);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return Math.round(sorted[rank - 1] * 1000) / 1000;
}

function timeline() {
  // Per second of scheduled time: acknowledged requests, p50/p99/max latency (ms).
  const rows = [];
  const perSecond = Math.max(1, Math.round(rate));
  for (let from = 0; from < measuredCount; from += perSecond) {
    const second = latencies.slice(from, from + perSecond).filter((v) => !Number.isNaN(v)).sort();
    rows.push([second.length, percentile(second, 50), percentile(second, 99),
      second.length ? Math.round(second[second.length - 1] * 10) / 10 : null]);
  }
  return rows;
}

function report() {
  const measured = latencies.filter((v) => !Number.isNaN(v)).sort();
  const lag = sendLag.slice(warmupCount).sort();
  const measureStart = start + warmupMs;
  const elapsedSend = (dueAt(total - 1) - measureStart) / 1000 + interval / 1000;
  const result = {
    rate, seconds, warmupSeconds: Number(opts.warmup), tag: opts.tag, bodies: entries.length,
    // Wall-clock time (ms since the epoch) the first request was due: where an end-to-end time starts.
    startedAtEpochMs: Math.round(performance.timeOrigin + start),
    sent: counts.sent, acked: counts.acked, unfinished: inflight,
    errors,
    warmup: { sent: counts.warmupSent, acked: counts.warmupAcked },
    sentPerSecond: Math.round((counts.sent / elapsedSend) * 10) / 10,
    ackedPerSecond: Math.round((counts.acked / ((lastDone - measureStart) / 1000)) * 10) / 10,
    latencyMs: {
      p50: percentile(measured, 50), p90: percentile(measured, 90), p99: percentile(measured, 99),
      "p99.9": percentile(measured, 99.9), max: measured.length ? Math.round(measured[measured.length - 1] * 1000) / 1000 : null,
    },
    sendLagMs: { p99: percentile(lag, 99), max: lag.length ? Math.round(lag[lag.length - 1] * 1000) / 1000 : null },
    sockets: { max: maxSockets, opened: socketsOpened, maxInflight, waitedForSocket },
    timeline: timeline(),
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

let next = 0;
function tick() {
  const now = performance.now();
  while (next < total && dueAt(next) <= now) send(next++);
  if (next < total) {
    // setTimeout wakes at ~1 ms granularity; whatever came due meanwhile is sent on that wake-up
    // and the lateness is part of its measured latency (and of sendLagMs).
    setTimeout(tick, Math.max(0, dueAt(next) - performance.now()));
  } else {
    drain(performance.now() + Number(opts.drain) * 1000);
  }
}

function drain(deadline) {
  if (inflight === 0 || performance.now() > deadline) {
    report();
    agent.destroy();
    process.exit(0);
  }
  setTimeout(() => drain(deadline), 10);
}

start = performance.now() + 5;
setTimeout(tick, 5);
