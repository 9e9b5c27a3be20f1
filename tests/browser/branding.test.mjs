// A warehouse onboarded and branded through the admin API (issue 12), seen in Chromium: its
// grant page shows its logo (served from our origin), its accent on the button and its privacy
// link; its invite email shows the logo from our origin. No request leaves our origin, the CSP
// is kept, the page passes axe, and both are screenshot.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';

import {
  ADMIN_KEY, CART, assertAccessible, launch, newContext, screenshots, startPeers,
} from './harness.mjs';

const NAME = 'Harbor Logistics';
const ACCENT = '#1a4d8f';

let peers;
let browser;
let invite;
let mail;
let logoUrl;

/** A `size`×`size` RGB PNG: a dark square on white, written by hand (zlib from node). */
function png(size) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = [0];
    for (let x = 0; x < size; x++) {
      const inside = x > size / 4 && x < (3 * size) / 4 && y > size / 4 && y < (3 * size) / 4;
      row.push(...(inside ? [26, 77, 143] : [255, 255, 255]));
    }
    rows.push(Buffer.from(row));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Calls the admin API with the admin key; answers the JSON (asserts a 2xx). */
async function admin(method, path, body, contentType = 'application/json') {
  const resp = await fetch(`${peers.base}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': contentType },
    body: body === undefined ? undefined : (contentType === 'application/json' ? JSON.stringify(body) : body),
  });
  const json = await resp.json();
  assert.ok(resp.ok, `${method} ${path}: ${resp.status} ${JSON.stringify(json)}`);
  return json;
}

before(async () => {
  browser = await launch();
  peers = await startPeers();
  await admin('POST', '/warehouses', { id: 'wh-harbor', display_name: NAME, notify_email: 'ops@harbor.test' });
  await admin('PUT', '/warehouses/wh-harbor/logo', png(64), 'image/png');
  const branded = await admin('PUT', '/warehouses/wh-harbor/branding', {
    accent: ACCENT,
    support_email: 'help@harbor.test',
    privacy_url: 'https://harbor.test/privacy',
  });
  logoUrl = branded.logo_url;
  const { key } = await admin('POST', '/warehouses/wh-harbor/keys', { name: 'browser' });
  const resp = await fetch(`${peers.base}/v1/invites`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ cart: CART, merchant_email: 'bob@shop.test', merchant_name: "Bob's Shop" }),
  });
  invite = await resp.json();
  assert.equal(resp.status, 201, JSON.stringify(invite));
  [mail] = await peers.emails(1);
});

after(async () => {
  await browser?.close();
  await peers?.stop();
});

test('the grant page shows the logo from our origin, the accent and the privacy link, and nothing else loads', async () => {
  // GIVEN the branded warehouse's invite link opened in Chromium
  const { context, requests, check, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  // THEN the logo is shown (decoded by the browser) from our origin
  const logo = page.locator('.parties img.mark-logo');
  await logo.waitFor();
  assert.equal(await logo.getAttribute('src'), logoUrl);
  assert.equal(new URL(logoUrl).origin, peers.base);
  assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth === 64), 'the logo decoded');
  // AND the button is in the accent, the privacy link is there
  const background = await page.locator('#grant-button').evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.equal(background, 'rgb(26, 77, 143)');
  assert.equal(await page.locator('a[href="https://harbor.test/privacy"]').count(), 1);
  // AND no request left our origin, the CSP held, axe passes; screenshots are taken
  assert.ok(requests.includes(logoUrl), 'the logo was requested from our origin');
  assertOnlyOurOrigins();
  await check(page, 'grant-branded');
  await context.close();
});

test('the invite email shows the logo from our origin, replies to the support address, and loads nothing else', async () => {
  // GIVEN the invite email's HTML part, in a browser that lets only our origin through
  const requests = [];
  const context = await browser.newContext();
  context.on('request', (r) => requests.push(r.url()));
  await context.route('**/*', (route) => (
    new URL(route.request().url()).origin === peers.base ? route.continue() : route.abort('blockedbyclient')
  ));
  const page = await context.newPage();
  await page.setContent(mail.html, { waitUntil: 'load' });
  // THEN the one image is the logo, loaded from our origin, and nothing else was requested
  assert.deepEqual(requests, [logoUrl]);
  assert.ok(await page.locator('img').evaluate((img) => img.complete && img.naturalWidth === 64));
  assert.equal(await page.locator('img').getAttribute('alt'), NAME);
  assert.equal(mail.replyTo, 'help@harbor.test');
  await assertAccessible(page, 'branded invite email');
  await screenshots(page, 'email-invite-branded');
  await context.close();
});

test('once the warehouse is disabled, its link shows the withdrawn page in its brand', async () => {
  // GIVEN the branded warehouse disabled by the operator
  const disabled = await admin('POST', '/warehouses/wh-harbor/disable', {});
  assert.equal(disabled.invites_withdrawn, 1);
  // WHEN the merchant opens the link
  const { context, check, assertOnlyOurOrigins } = await newContext(browser, peers);
  const page = await context.newPage();
  const resp = await page.goto(invite.setup_url);
  // THEN the withdrawn page shows, with the warehouse's logo from our origin
  assert.equal(resp.status(), 410);
  await page.locator('h1', { hasText: 'This request was withdrawn' }).waitFor();
  const logo = page.locator('img.mark-logo');
  assert.equal(await logo.getAttribute('src'), logoUrl);
  assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth === 64), 'the logo decoded');
  assertOnlyOurOrigins();
  await check(page, 'withdrawn-branded');
  await context.close();
});
