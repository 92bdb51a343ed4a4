// A real normalising client against the real binary: Apollo Client 4 with its default
// InMemoryCache (which keys objects by `__typename` and `id`). A dashboard query is watched; a
// mutation's answer and a subscription event then update the watched result by themselves, with
// no refetch, because every object they return carries its `id`. The figures are Jiaozuo's and
// Puyang's 2024 enterprise records, which an administrator enters outside any round of the
// yearly return: public as written (the report's 2023 is a closed, published round).
//
// Run: `npm ci && npm test` in this directory, after `cargo build` (COVERAGE_API_BIN overrides
// the binary, default ../../target/debug/coverage-api). `.ci/run` does both.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const binary = process.env.COVERAGE_API_BIN ?? path.resolve(here, '../../target/debug/coverage-api');
const WAIT_MS = 10_000;

let dir;
let server;
let addr;
let token;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'coverage-api-apollo-'));
  const url = `sqlite://${dir}/coverage.db?mode=rwc`;
  const env = { ...process.env, RUST_LOG: 'info' };
  delete env.DATABASE_URL;
  // The secret is printed once, on the last line.
  const out = execFileSync(binary, ['token', 'create', '--role', 'admin', '--name', 'test', '--database-url', url], { env });
  token = out.toString().trim().split('\n').at(-1);
  server = spawn(binary, ['serve', '--addr', '127.0.0.1:0', '--database-url', url], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server never logged its address')), WAIT_MS);
    server.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
    // Keep reading the log after the address, so the server never blocks on a full pipe.
    createInterface({ input: server.stderr }).on('line', (line) => {
      const found = /addr=(\S+)/.exec(line);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
  });
  const made = await fetch(`http://${addr}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: `mutation { bulkUpdateCoverage(input: [
        { cityCode: "410800", branchType: ENTERPRISE, period: 2024, newBranches: 193, source: "Jiaozuo return" },
        { cityCode: "410900", branchType: ENTERPRISE, period: 2024, newBranches: 12, source: "Puyang return" }]) {
        userErrors { code } } }`,
    }),
  });
  assert.deepEqual(await made.json(), { data: { bulkUpdateCoverage: { userErrors: [] } } });
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Apollo Client with its default cache, HTTP for queries and mutations, graphql-ws for
 * subscriptions; `requests` counts what goes over HTTP. */
function apollo() {
  const requests = [];
  const http = new HttpLink({
    uri: `http://${addr}/graphql`,
    headers: { authorization: `Bearer ${token}` },
    fetch: (uri, init) => {
      requests.push(JSON.parse(init.body).operationName);
      return fetch(uri, init);
    },
  });
  const ws = createClient({
    url: `ws://${addr}/graphql/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  const link = ApolloLink.split(({ query }) => isSubscriptionOperation(query), new GraphQLWsLink(ws), http);
  const client = new ApolloClient({ cache: new InMemoryCache(), link });
  return { client, requests, ws };
}

const DASHBOARD = gql`
  query Dashboard {
    cities(first: 100) {
      nodes {
        id
        code
        nameEn
        coverage(period: 2024) { id branchType period branchCount eligibleCount coverageRate version }
        pilotDesignations { id program { id code } }
      }
    }
  }
`;

/** The watched query's results, one promise at a time: `next(predicate)` resolves with the first
 * result (already seen or still to come) that satisfies it. */
function watch(client, query) {
  const seen = [];
  const waiting = [];
  const subscription = client.watchQuery({ query }).subscribe((result) => {
    seen.push(result);
    for (const w of [...waiting]) {
      if (w.predicate(result)) {
        waiting.splice(waiting.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(result);
      }
    }
  });
  return {
    next(predicate, what) {
      const found = seen.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        // Cleared once the result comes: a pending timer would keep the process alive.
        const timer = setTimeout(() => reject(new Error(`the watched query never showed ${what}`)), WAIT_MS);
        waiting.push({ predicate, resolve, timer });
      });
    },
    stop: () => subscription.unsubscribe(),
  };
}

const city = (result, code) => result.data?.cities.nodes.find((c) => c.code === code);
const record = (result, code, type) => city(result, code)?.coverage.find((r) => r.branchType === type);

/** Waits until the server has `n` subscribers listening for events (its /metrics says so). */
async function subscribers(n) {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const text = await (await fetch(`http://${addr}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('coverage_api_event_subscribers '));
    if (line && Number(line.split(' ')[1]) >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${n} subscribers never listened`);
}

test('a mutation answer updates the cached dashboard without a refetch', async () => {
  const { client, requests, ws } = apollo();
  const dashboard = watch(client, DASHBOARD);
  const first = await dashboard.next((r) => r.data, 'data');
  assert.deepEqual(record(first, '410800', 'ENTERPRISE'), {
    __typename: 'Coverage',
    id: 'Q292ZXJhZ2U6NDEwODAwL0VOVEVSUFJJU0UvMjAyNA', // Coverage:410800/ENTERPRISE/2024
    branchType: 'ENTERPRISE',
    period: 2024,
    branchCount: null,
    eligibleCount: null,
    coverageRate: null,
    version: 1,
  });

  const answer = await client.mutate({
    mutation: gql`
      mutation UpdateJiaozuo {
        updateCoverage(input: { cityCode: "410800", branchType: ENTERPRISE, period: 2024,
                                branchCount: 250, eligibleCount: 400, expectedVersion: 1,
                                source: "Jiaozuo return" }) {
          coverage { id branchCount eligibleCount coverageRate version }
          userErrors { code }
        }
      }
    `,
  });
  assert.deepEqual(answer.data.updateCoverage.userErrors, []);

  const updated = await dashboard.next(
    (r) => record(r, '410800', 'ENTERPRISE')?.version === 2,
    'version 2 of Jiaozuo',
  );
  assert.deepEqual(record(updated, '410800', 'ENTERPRISE'), {
    __typename: 'Coverage',
    id: 'Q292ZXJhZ2U6NDEwODAwL0VOVEVSUFJJU0UvMjAyNA',
    branchType: 'ENTERPRISE',
    period: 2024,
    branchCount: 250,
    eligibleCount: 400,
    coverageRate: 0.625,
    version: 2,
  });
  // The cache answers the dashboard by itself: one query, one mutation, nothing refetched.
  assert.deepEqual(client.readQuery({ query: DASHBOARD }), updated.data);
  assert.deepEqual(requests, ['Dashboard', 'UpdateJiaozuo']);

  // A removal: the payload's city (with its id) carries the list as it stands after.
  await client.mutate({
    mutation: gql`
      mutation RemoveJiaozuoPilot {
        removePilotDesignation(input: { cityCode: "410800", programCode: "KECHUANG_PILOT", expectedVersion: 1 }) {
          city { id pilotDesignations { id program { id code } } }
          userErrors { code }
        }
      }
    `,
  });
  const removed = await dashboard.next(
    (r) => city(r, '410800')?.pilotDesignations.length === 0,
    "Jiaozuo's designation removed",
  );
  assert.deepEqual(city(removed, '410800').pilotDesignations, []);
  assert.deepEqual(requests, ['Dashboard', 'UpdateJiaozuo', 'RemoveJiaozuoPilot']);

  dashboard.stop();
  await ws.dispose();
  client.stop();
});

test('a subscription event updates the cached dashboard without a refetch', async () => {
  const { client, requests, ws } = apollo();
  const dashboard = watch(client, DASHBOARD);
  const first = await dashboard.next((r) => r.data, 'data');
  const puyang = record(first, '410900', 'ENTERPRISE');
  assert.equal(puyang.id, 'Q292ZXJhZ2U6NDEwOTAwL0VOVEVSUFJJU0UvMjAyNA'); // Coverage:410900/ENTERPRISE/2024
  assert.equal(puyang.version, 1);

  const events = [];
  const subscription = client
    .subscribe({
      query: gql`
        subscription CoverageChanged {
          coverageChanged { coverage { id branchCount eligibleCount coverageRate version } }
        }
      `,
    })
    .subscribe((event) => events.push(event));
  await subscribers(1);

  // Another office writes, not through this client: only the event tells it.
  const other = await fetch(`http://${addr}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: `mutation { updateCoverage(input: { cityCode: "410900", branchType: ENTERPRISE,
        period: 2024, branchCount: 95, eligibleCount: 100, expectedVersion: 1, source: "Puyang return" }) { userErrors { code } } }`,
    }),
  });
  assert.deepEqual(await other.json(), { data: { updateCoverage: { userErrors: [] } } });

  const updated = await dashboard.next(
    (r) => record(r, '410900', 'ENTERPRISE')?.version === 2,
    'version 2 of Puyang',
  );
  assert.deepEqual(record(updated, '410900', 'ENTERPRISE'), {
    __typename: 'Coverage',
    id: 'Q292ZXJhZ2U6NDEwOTAwL0VOVEVSUFJJU0UvMjAyNA',
    branchType: 'ENTERPRISE',
    period: 2024,
    branchCount: 95,
    eligibleCount: 100,
    coverageRate: 0.95,
    version: 2,
  });
  assert.equal(events.length, 1);
  assert.deepEqual(requests, ['Dashboard']);

  subscription.unsubscribe();
  dashboard.stop();
  await ws.dispose();
  client.stop();
});
