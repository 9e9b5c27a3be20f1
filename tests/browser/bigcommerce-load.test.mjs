// BigCommerce's load callback as a merchant meets it in Chromium: a store connected through
// BigCommerce's stand-in (its install link, the callback, the token answer, install/succeeded),
// then the page BigCommerce shows for the app, opened with a payload signed as BigCommerce signs
// it (HS256 with the app's client secret); and the page of a payload that does not verify. Same
// checks on every page: only our origins, no CSP violation, axe-core, no sideways scrolling on a
// phone, screenshots.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

import {
  API_KEY, WAREHOUSE, checkPage, launch, newContext, nowSecs, openPopup, outcome, startPeers,
} from './harness.mjs';

const BC_ID = 'bc-app';
const BC_SECRET = 'bc-secret';
const STORE = 'stores/abc123';

let stand;
let standBase;
let peers;
let browser;

/** BigCommerce's stand-in: the install link redirects back to the callback with a code, the
 * token endpoint answers the store's permanent token, install/succeeded is a page. */
function startStand() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const url = new URL(req.url, 'http://stand');
      if (req.method === 'GET' && url.pathname === `/login.bigcommerce.com/app/${BC_ID}/install`) {
        const back = new URL(`${peers.base}/oauth/callback/bigcommerce`);
        back.searchParams.set('code', 'bc-code');
        back.searchParams.set('scope', 'store_v2_orders store_inventory');
        back.searchParams.set('context', STORE);
        res.writeHead(302, { location: back.toString() }).end();
      } else if (req.method === 'POST' && url.pathname === '/login.bigcommerce.com/oauth2/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          access_token: 'bc-permanent-token', scope: 'store_v2_orders store_inventory', context: STORE,
        }));
      } else if (url.pathname.endsWith('/install/succeeded')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Installed</title>');
      } else {
        res.writeHead(404).end();
      }
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

before(async () => {
  stand = await startStand();
  standBase = `http://127.0.0.1:${stand.address().port}`;
  peers = await startPeers({
    extraConfig: `
[cart_credentials.bigcommerce]
client_id = "${BC_ID}"
client_secret = "${BC_SECRET}"
base_url_override = "${standBase}"
`,
  });
  peers.origins.push(standBase);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await peers?.stop();
  stand?.close();
});

/** A `signed_payload_jwt` as BigCommerce sends it, signed HS256 with `secret`. */
function signedPayload(secret, claims = {}) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = nowSecs();
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
    iss: 'bc', aud: BC_ID, sub: STORE, jti: `j-${now}-${Math.random()}`, iat: now, nbf: now,
    exp: now + 86_400, user: { id: 9, email: 'alice@shop.test' },
    owner: { id: 9, email: 'alice@shop.test' }, url: '/', channel_id: null, ...claims,
  })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const loadUrl = (token) =>
  `${peers.base}/cart-events/bigcommerce/load?signed_payload_jwt=${encodeURIComponent(token)}`;

test('the load page lists the warehouse connected to the store and how to withdraw it', async () => {
  const { context } = await newContext(browser, peers);
  // GIVEN a store connected through BigCommerce's install, as the merchant grants it
  const resp = await fetch(`${peers.base}/v1/invites`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ cart: 'bigcommerce', store: 'abc123', merchant_email: 'alice@shop.test' }),
  });
  const invite = await resp.json();
  assert.equal(resp.status, 201, JSON.stringify(invite));
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  await openPopup(context, page);
  await outcome(page, 'Successful Authorization');
  // WHEN BigCommerce opens the app with a signed payload for that store
  const load = await page.goto(loadUrl(signedPayload(BC_SECRET)));
  // THEN the page names the warehouse, since when, and how to withdraw it, and passes the checks
  assert.equal(load.status(), 200);
  await page.getByRole('heading', { level: 2, name: WAREHOUSE }).waitFor();
  assert.match(await page.textContent('main'), /Connected since/);
  await checkPage(page, 'bigcommerce-load');
  await context.close();
});

test('a payload that does not verify gets a refusal page that names nobody', async () => {
  const { context } = await newContext(browser, peers);
  const page = await context.newPage();
  // WHEN BigCommerce's load arrives signed with another secret
  const load = await page.goto(loadUrl(signedPayload('not-the-secret')));
  // THEN it is a 401 page saying so, without any warehouse, that passes the checks
  assert.equal(load.status(), 401);
  const text = await page.textContent('main');
  assert.match(text, /could not be verified/);
  assert.ok(!text.includes(WAREHOUSE), text);
  await checkPage(page, 'bigcommerce-load-refused');
  await context.close();
});
