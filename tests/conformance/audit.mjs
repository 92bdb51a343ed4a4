// Runs the graphql-http package's server audits (GraphQL over HTTP conformance) against the real
// coverage-api binary and prints the result table. Exits non-zero when a MUST or a SHOULD audit
// fails, unless the audit is in EXCEPTIONS below with its reason.
//
//   node audit.mjs BINARY DATABASE_URL
//
// The binary is started on a free port (`--addr 127.0.0.1:0`; its log line `addr=…` says which),
// on DATABASE_URL (an empty SQLite file or PostgreSQL database is migrated and seeded on start),
// and stopped at the end.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { serverAudits } from 'graphql-http';

// Audits that may fail without failing the run: id → why the audit does not apply to us.
// Empty: every MUST and SHOULD audit applies and passes.
const EXCEPTIONS = {};

const [binary, databaseUrl] = process.argv.slice(2);
if (!binary || !databaseUrl) {
  console.error('usage: node audit.mjs BINARY DATABASE_URL');
  process.exit(2);
}

const server = spawn(
  binary,
  ['serve', '--addr', '127.0.0.1:0', '--database-url', databaseUrl],
  {
    env: { ...process.env, RUST_LOG: 'info', DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
const stopServer = () => server.exitCode === null && server.kill('SIGTERM');
process.on('exit', stopServer);

const addr = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('the server did not log its address in 60 s')), 60_000);
  server.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
  // Keep reading the log after the address so the server never blocks on a full pipe.
  createInterface({ input: server.stderr }).on('line', (line) => {
    const at = line.indexOf('addr=');
    if (at >= 0) {
      clearTimeout(timer);
      resolve(line.slice(at + 5).trim());
    }
  });
});

let results;
try {
  const audits = serverAudits({ url: `http://${addr}/graphql` });
  results = await Promise.all(audits.map((audit) => audit.fn()));
} finally {
  stopServer();
}

const level = (r) => r.name.split(' ')[0];
const count = (pred) => results.filter(pred).length;
const table = [
  ['ok', count((r) => r.status === 'ok')],
  ['MUST failed', count((r) => r.status === 'error')],
  ['SHOULD failed', count((r) => r.status === 'warn')],
  ['MAY not taken', count((r) => r.status === 'notice')],
];
console.log(`graphql-http server audits against ${binary} on ${databaseUrl.split(':')[0]}: ${results.length} audits`);
console.log('');
console.log('| result | audits |');
console.log('|---|---:|');
for (const [name, n] of table) console.log(`| ${name} | ${n} |`);
console.log('');

let failed = 0;
for (const r of results.filter((r) => r.status !== 'ok')) {
  const excused = EXCEPTIONS[r.id];
  const blocking = (level(r) === 'MUST' || level(r) === 'SHOULD') && !excused;
  if (blocking) failed++;
  const mark = blocking ? 'FAIL' : excused ? 'excused' : 'not taken';
  let detail = '';
  try {
    const body = await r.response.text();
    detail = ` → ${r.response.status} ${r.response.headers.get('content-type') ?? '(no content-type)'} ${body.slice(0, 200)}`;
  } catch {
    // The body was read by the audit already; the status is enough then.
    detail = ` → ${r.response.status}`;
  }
  console.log(`${mark}: ${r.id} ${r.name}: ${r.reason}${detail}${excused ? ` (${excused})` : ''}`);
}

if (failed > 0) {
  console.error(`\n${failed} MUST or SHOULD audits failed`);
  process.exit(1);
}
console.log('every MUST and SHOULD audit passes');
