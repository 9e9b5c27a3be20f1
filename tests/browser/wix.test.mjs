// Wix's external install flow as a merchant meets it in Chromium: the grant page's button opens
// Wix's installer in the popup (a stand-in here, answering as Wix documents: back to our
// callback URL with its own query kept and appId, tenantId, instanceId and a signedInstance
// appended), the callback mints a token for that instance (the stand-in's Create Access Token
// takes only the documented JSON), and the grant page turns to "Successful Authorization". The
// signature check and the refusals are proven in tests/tests/carts_wix.rs; here the pages get
// the same checks as every other: origins, CSP, axe-core, phone width, screenshots.

import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { checkPage, launch, newContext, openPopup, outcome, startPeers, statusOf } from './harness.mjs';

const APP_ID = 'wix-browser-app';
const APP_KEY = 'wix-browser-app-key';
const INSTANCE = '5f2a9a0e-1c1d-4b7e-9a55-0d3b8c8e7f10';

let peers;
let browser;
let wix;
let callback;
const minted = [];

/** The stand-in of Wix's installer and of Create Access Token; anything else is 400. */
function startWix() {
  return new Promise((ok) => {
    const srv = createServer((req, res) => {
      const url = new URL(req.url, 'http://stand-in');
      if (req.method === 'GET' && url.pathname === '/www.wix.com/app-installer'
        && url.searchParams.get('appId') === APP_ID
        && (url.searchParams.get('postInstallationUrl') || '').startsWith(`${callback}?state=`)) {
        const back = new URL(url.searchParams.get('postInstallationUrl'));
        const data = Buffer.from(JSON.stringify({ instanceId: INSTANCE, signDate: new Date().toISOString() })).toString('base64url');
        const sig = createHmac('sha256', APP_KEY).update(data).digest('base64url');
        back.searchParams.append('appId', APP_ID);
        back.searchParams.append('tenantId', '7d1e2f30-4a5b-4c6d-8e9f-0a1b2c3d4e5f');
        back.searchParams.append('instanceId', INSTANCE);
        back.searchParams.append('signedInstance', `${sig}.${data}`);
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      if (req.method === 'POST' && url.pathname === '/www.wixapis.com/oauth2/token') {
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
          let sent = null;
          try { sent = JSON.parse(body); } catch { /* not JSON: refused below */ }
          const documented = { grant_type: 'client_credentials', client_id: APP_ID, client_secret: APP_KEY, instance_id: INSTANCE };
          // The same fields and values, in any order (a JSON object has none).
          const same = (a, b) => JSON.stringify(Object.entries(a || {}).sort()) === JSON.stringify(Object.entries(b).sort());
          if (!(req.headers['content-type'] || '').startsWith('application/json') || !same(sent, documented)) {
            res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_request"}');
            return;
          }
          minted.push(sent.instance_id);
          res.writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ access_token: 'OAUTH2.browser-minted', token_type: 'Bearer', expires_in: 14400 }));
        });
        return;
      }
      res.writeHead(400).end();
    });
    srv.unref();
    srv.listen(0, '127.0.0.1', () => ok(srv));
  });
}

before(async () => {
  wix = await startWix();
  const { port } = wix.address();
  peers = await startPeers({
    extraConfig: `
[cart_credentials.wix]
client_id = "${APP_ID}"
client_secret = "${APP_KEY}"
base_url_override = "http://127.0.0.1:${port}"
`,
  });
  callback = `${peers.base}/oauth/callback/wix`;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await peers?.stop();
  wix?.close();
});

test('a Wix merchant installs the app in the popup and the page confirms', async () => {
  // GIVEN a Wix invite
  const invite = await peers.createInvite({ cart: 'wix' });
  const wixBase = `http://127.0.0.1:${wix.address().port}`;
  const { context, assertOnlyOurOrigins } = await newContext(browser, { ...peers, origins: [...peers.origins, wixBase] });
  const page = await context.newPage();
  await page.goto(invite.setup_url);
  await checkPage(page, 'wix-grant');
  // WHEN the merchant presses the button and Wix's installer sends the popup back
  await openPopup(context, page, () => page.getByRole('button', { name: 'Grant API Access' }).click());
  // THEN the page says Successful Authorization, and one token was minted for the instance
  await outcome(page, 'Successful Authorization', 10_000);
  assert.equal(await statusOf(invite.setup_url), 'authorized');
  assert.deepEqual(minted, [INSTANCE]);
  await checkPage(page, 'wix-success');
  assertOnlyOurOrigins();
  await context.close();
});
