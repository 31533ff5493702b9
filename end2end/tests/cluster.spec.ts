// Two nodes behind nginx (deploy/nginx.conf, sticky on the session cookie),
// one PostgreSQL database and one Redis between them. Alice (customer, on
// long-polling: WebSocket blocked) and Bob (provider, on WebSocket) end up on
// different nodes; the seed's flow must work across them exactly as on one:
// messages both ways, typing, Add LSM with Lena (LSM) hearing of it live,
// and the same thread, in the same order, on every screen.
import { test, expect, Browser, BrowserContext, Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { Cluster } from '../support/cluster';
import { Actor, signIn as signInAs } from '../support/actors';
import { Server } from '../support/server';
import { blockWebSocket } from '../support/websocket';

// The single-node specs use E2E_PORT + 0, 1, 2…; the cluster takes + 10..12
// (or ports the OS picks when those are busy).
const cluster = new Cluster(Number(process.env.E2E_PORT ?? 3100) + 10);

test.describe.configure({ mode: 'serial' });

// Seeded: Alice booked Bob for this job and they already talked.
const SEEDED = 'Fix the kitchen sink';
const SEED_LINES = [
  'Hi Bob, thanks for taking the job. Can you come on Thursday?',
  'Hi Alice! Thursday at 10:00 works for me.',
  'Perfect, see you then.',
];
const FROM_ALICE = 'Alice over long-polling: the sink leaks again.';
const FROM_BOB = 'Bob over WebSocket: I can come back on Friday.';
const FROM_LENA = 'Lena here: let us settle this together.';

let alice: Actor, bob: Actor, lena: Actor;
let aliceNode = '', bobNode = '';
// Alice's Engine.IO session ids, from her polling requests' URLs.
const aliceSids = new Set<string>();
// Her browser's User-Agent: how her requests are found in nginx's access
// log, which leaves Engine.IO session ids out (they are credentials).
const ALICE_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 jobchat-e2e-alice';

// signIn only needs the address the browsers use: nginx's.
const site = () => ({ baseURL: cluster.baseURL }) as Server;
const signIn = (
  browser: Browser,
  email: string,
  prepare?: (context: BrowserContext) => Promise<void>,
  userAgent?: string,
) => signInAs(browser, site(), email, { prepare, userAgent });

const popup = (page: Page) => page.locator('.popup', { hasText: SEEDED });
const row = (page: Page) => page.locator('.chat-row', { hasText: SEEDED });
const lines = (page: Page, text: string) => popup(page).locator('.msg', { hasText: text });

/** The node (id from /healthz) that nginx sends this page's requests to. */
async function nodeOf(page: Page): Promise<string> {
  const health = await page.evaluate(async () => {
    const res = await fetch('/healthz', { cache: 'no-store' });
    return { status: res.status, body: await res.json() };
  });
  expect(health.status, JSON.stringify(health.body)).toBe(200);
  expect(health.body.node, 'a node that shares Redis names itself').toBeTruthy();
  return health.body.node as string;
}

/** Log out, then in again on the same page: a new token, so maybe another node. */
async function signInAgain(actor: Actor, email: string) {
  const page = actor.page;
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login/);
  await page.locator('body[data-hydrated]').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('demo-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(cluster.baseURL + '/');
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
}

async function ensureOpen(page: Page) {
  if ((await popup(page).count()) === 0) await row(page).click();
  await expect(popup(page)).toBeVisible();
}

async function send(page: Page, text: string) {
  const box = popup(page).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(popup(page).locator('.msg.mine', { hasText: text })).toHaveAttribute('data-state', /sent|read/);
}

/** The thread as the page shows it: each message's id and text, top to bottom. */
const thread = (page: Page) =>
  popup(page)
    .locator('.msg')
    .evaluateAll((els) =>
      els.map((e) => ({
        id: e.getAttribute('data-id'),
        text: ((e.querySelector('.msg-text') ?? e).textContent ?? '').trim(),
      })),
    );

test.beforeAll(async () => {
  test.setTimeout(120_000);
  try {
    await cluster.start();
  } catch (e) {
    console.log(cluster.logs());
    throw e;
  }
  console.log(
    `cluster: nginx ${cluster.baseURL} → ${cluster.nodes.map((n) => `${n.name} ${n.url} (${n.id})`).join(', ')}; database ${cluster.database}`,
  );
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) {
    const logs = cluster.logs();
    console.log(logs);
    await testInfo.attach('cluster logs', { body: logs, contentType: 'text/plain' });
  }
});

test.afterAll(async () => {
  test.setTimeout(60_000);
  for (const a of [alice, bob, lena]) await a?.context.close().catch(() => undefined);
  await cluster.stop();
});

test('nginx pins each user to one node: Alice (long-polling) and Bob (WebSocket) on different ones', async ({ browser }) => {
  alice = await signIn(
    browser,
    'alice@demo.test',
    async (context) => {
      await blockWebSocket(context);
      context.on('request', (r) => {
        const url = new URL(r.url());
        const sid = url.searchParams.get('sid');
        if (url.pathname.startsWith('/socket.io/') && sid) aliceSids.add(sid);
      });
    },
    ALICE_UA,
  );
  bob = await signIn(browser, 'bob@demo.test');

  aliceNode = await nodeOf(alice.page);
  // Sticky: every request of hers goes to the same node.
  for (let i = 0; i < 5; i++) expect(await nodeOf(alice.page)).toBe(aliceNode);

  bobNode = await nodeOf(bob.page);
  // The node follows from the session cookie's hash: a new session may land elsewhere.
  for (let attempt = 1; bobNode === aliceNode && attempt <= 10; attempt++) {
    console.log(`Bob is on Alice's node (${cluster.nameOf(aliceNode)}); signing him in again (${attempt})`);
    await signInAgain(bob, 'bob@demo.test');
    bobNode = await nodeOf(bob.page);
  }
  console.log(`Alice on ${cluster.nameOf(aliceNode)}, Bob on ${cluster.nameOf(bobNode)}`);
  expect(cluster.nodes.map((n) => n.id)).toContain(aliceNode);
  expect(cluster.nodes.map((n) => n.id)).toContain(bobNode);
  expect(bobNode, 'Alice and Bob on different nodes').not.toBe(aliceNode);
  for (let i = 0; i < 5; i++) expect(await nodeOf(bob.page)).toBe(bobNode);

  // Alice's socket runs over long-polling, Bob's over WebSocket.
  await expect(alice.page.locator('.connection')).toHaveAttribute('data-transport', 'polling');
  await expect(alice.page.locator('.connection')).toHaveAttribute('title', /polling/);
  await expect(bob.page.locator('.connection')).toHaveAttribute('data-transport', 'websocket');
  await expect(bob.page.locator('.connection')).toHaveAttribute('title', /websocket/);
});

test('messages cross the nodes both ways, live, and so does typing', async () => {
  await ensureOpen(alice.page);
  await ensureOpen(bob.page);
  for (const page of [alice.page, bob.page]) await expect(lines(page, SEED_LINES[2])).toHaveCount(1);

  await send(alice.page, FROM_ALICE);
  await expect(popup(bob.page).locator('.msg.theirs', { hasText: FROM_ALICE })).toHaveCount(1);

  // Bob types (WebSocket, his node) → Alice sees it (polling, hers).
  const bobBox = popup(bob.page).getByLabel('Message');
  await bobBox.pressSequentially('On my ', { delay: 30 });
  await expect(popup(alice.page).locator('.typing')).toHaveText('Bob Plumber is typing…');
  await bobBox.fill('');
  await expect(popup(alice.page).locator('.typing')).toHaveText('');

  await send(bob.page, FROM_BOB);
  await expect(popup(alice.page).locator('.msg.theirs', { hasText: FROM_BOB })).toHaveCount(1);

  // And the other way round.
  const aliceBox = popup(alice.page).getByLabel('Message');
  await aliceBox.pressSequentially('Friday ', { delay: 30 });
  await expect(popup(bob.page).locator('.typing')).toHaveText('Alice Customer is typing…');
  await aliceBox.fill('');
  await expect(popup(bob.page).locator('.typing')).toHaveText('');

  // Exactly once on both sides.
  for (const page of [alice.page, bob.page]) {
    await expect(lines(page, FROM_ALICE)).toHaveCount(1);
    await expect(lines(page, FROM_BOB)).toHaveCount(1);
  }
});

test('Add LSM across the nodes: Lena hears of it live and both hear her', async ({ browser }) => {
  lena = await signIn(browser, 'lena@demo.test');
  const lenaNode = await nodeOf(lena.page);
  console.log(`Lena on ${cluster.nameOf(lenaNode)}`);
  await expect(lena.page.locator('.connection')).toHaveAttribute('title', /websocket/);
  await expect(row(lena.page)).toHaveCount(0);

  // Bob (WebSocket) opens the dispute; Alice (polling, the other node) and
  // Lena see it without reloading.
  await ensureOpen(bob.page);
  await popup(bob.page).getByRole('button', { name: 'Add LSM' }).click();
  await popup(bob.page).getByLabel('What is the disagreement about?').fill('The sink leaks again after the repair.');
  await popup(bob.page).getByRole('button', { name: 'Add LSM to this chat' }).click();
  for (const page of [bob.page, alice.page]) {
    await expect(popup(page).locator('.msg.system', { hasText: 'opened a dispute' })).toHaveCount(1);
    await expect(row(page).locator('.pill-lsm')).toBeVisible();
  }
  await expect(popup(alice.page).getByRole('button', { name: 'Add LSM' })).toHaveCount(0);

  await expect(lena.page.getByTestId('bell-count')).toHaveText('1');
  await expect(row(lena.page)).toBeVisible();
  await lena.page.getByRole('button', { name: /Notifications/ }).click();
  await lena.page.locator('.bell-item', { hasText: SEEDED }).click();
  await expect(popup(lena.page)).toBeVisible();
  await expect(lines(lena.page, FROM_ALICE)).toHaveCount(1);
  await expect(lines(lena.page, FROM_BOB)).toHaveCount(1);

  for (const other of [alice, bob]) {
    await expect(
      popup(other.page).locator('.popup-people .person', { hasText: 'Lena Manager' }).locator('.presence.online'),
    ).toBeVisible();
  }
  await send(lena.page, FROM_LENA);
  for (const other of [alice, bob]) {
    await expect(popup(other.page).locator('.msg.theirs', { hasText: FROM_LENA })).toHaveCount(1);
  }
});

test('every screen shows the same thread in the same order; Alice stayed on long-polling', async () => {
  // Everything confirmed, so ids are the stored ones.
  for (const a of [alice, bob, lena]) {
    await expect(popup(a.page).locator('.msg.mine[data-state="sending"]')).toHaveCount(0);
  }
  const reference = await thread(bob.page);
  await expect.poll(() => thread(alice.page)).toEqual(reference);
  await expect.poll(() => thread(lena.page)).toEqual(reference);
  const texts = reference.map((m) => m.text);
  const order = [...SEED_LINES, FROM_ALICE, FROM_BOB, 'opened a dispute', FROM_LENA].map((t) =>
    texts.findIndex((x) => x.includes(t)),
  );
  expect(order, texts.join('\n')).not.toContain(-1);
  expect(order, texts.join('\n')).toEqual([...order].sort((a, b) => a - b));
  expect(new Set(reference.map((m) => m.id)).size, 'no message twice').toBe(reference.length);

  // Still polling at the end: the page says so…
  await expect(alice.page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  await expect(alice.page.locator('.connection')).toHaveAttribute('data-transport', 'polling');
  await expect(alice.page.locator('.connection')).toHaveAttribute('title', /polling/);
  // …and nginx's access log agrees: every Socket.IO request of hers (found
  // by her User-Agent) was polling, answered by her node, none refused, and
  // none logged her Engine.IO session id.
  expect(aliceSids.size).toBeGreaterThan(0);
  const node = cluster.nodes.find((n) => n.id === aliceNode)!;
  const log = readFileSync(cluster.accessLog, 'utf8').split('\n');
  const hers = log.filter((l) => l.includes('/socket.io/') && l.includes(ALICE_UA));
  expect(hers.length, "access log lines for Alice's Socket.IO requests").toBeGreaterThan(0);
  for (const line of hers) {
    expect(line).toContain('transport=polling');
    expect(line).not.toContain('transport=websocket');
    expect(line).toMatch(/" 200 /);
    expect(line).toContain(`upstream=127.0.0.1:${node.port} `);
    for (const sid of aliceSids) expect(line, 'no Engine.IO session id in the log').not.toContain(sid);
  }
});

test("a report reaches Lena's queue live, and her suspension of Bob closes his tab on the other node", async () => {
  // Lena acts from the node Bob is not on.
  let lenaNode = await nodeOf(lena.page);
  for (let attempt = 1; lenaNode === bobNode && attempt <= 10; attempt++) {
    console.log(`Lena is on Bob's node (${cluster.nameOf(bobNode)}); signing her in again (${attempt})`);
    await signInAgain(lena, 'lena@demo.test');
    lenaNode = await nodeOf(lena.page);
  }
  expect(lenaNode, 'Lena and Bob on different nodes').not.toBe(bobNode);
  await lena.page.getByRole('link', { name: 'Moderation' }).click();
  await lena.page.waitForURL(cluster.baseURL + '/moderation');
  await expect(lena.page.getByRole('heading', { name: 'Queue' })).toBeVisible();

  // Alice reports Bob's message; Lena's open queue shows it without a reload.
  await ensureOpen(alice.page);
  const bubble = popup(alice.page).locator('.msg.theirs', { hasText: FROM_BOB });
  await bubble.getByRole('button', { name: 'Report', exact: true }).click();
  await bubble.getByLabel('Harassment').check();
  await bubble.getByRole('button', { name: 'Send report', exact: true }).click();
  await expect(bubble.locator('.msg-reported')).toBeVisible();
  const item = lena.page.locator('.mod-item', { hasText: FROM_BOB });
  await expect(item).toBeVisible();

  // Lena suspends him; his tab, on the other node, goes to sign-in.
  await item.locator('.mod-actions').getByRole('button', { name: 'Suspend', exact: true }).click();
  await item.getByLabel('Reason to suspend').fill('Harassed a customer.');
  await item.getByRole('button', { name: 'Continue', exact: true }).click();
  await item.locator('.act-form').getByRole('button', { name: 'Suspend', exact: true }).click();
  await expect(item).toHaveCount(0);
  await bob.page.waitForURL(/\/login/);
});
