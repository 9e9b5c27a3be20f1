// A cart for the end-to-end tests: oidc-provider, a strict OAuth 2.0 authorization server.
//
// Environment: PORT (loopback port to listen on), REDIRECT_URI (the one registered callback),
// CLIENT_ID, CLIENT_SECRET, and optionally ACCESS_TOKEN_TTL (seconds, default 3600: the life
// of access tokens from the authorization code), REFRESHED_ACCESS_TOKEN_TTL (seconds,
// default 3600: the life of refreshed ones, so a test can start with a token due for refresh
// and know that the refreshed one is not, or make every token short-lived), and
// TOKEN_DELAY_MS (default 0: every token request is held that long before the provider
// answers it, a slow cart, so concurrent callbacks overlap). Prints "ready <issuer>" when
// listening. Refresh tokens rotate on every use; a used one is refused
// (and, as oidc-provider does, revokes the grant).
//
// Token revocation (RFC 7009) is on, at /token/revocation, as the test catalog entry names it.
//
// Besides the provider's own routes it answers GET /__peer/stats with what the tests need to
// see from outside: how many token requests arrived, the tokens it issued, and how many
// revocation requests arrived (`revocations`) and how many it answered 200 (`revoked`).
//
// Its development login and consent pages @import a Google Fonts stylesheet; the peer strips
// that line so a browser test can hold that no request leaves for a third origin.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
// ISSUER_HOST (default 127.0.0.1): the name the cart is reached by. `localhost` puts it on
// another site than a cartlink on 127.0.0.1, as a real cart is.
const issuer = `http://${process.env.ISSUER_HOST || '127.0.0.1'}:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  scopes: ['openid', 'offline_access', 'orders:read', 'inventory:write'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: (ctx) => Number((ctx?.oidc?.params?.grant_type === 'refresh_token'
      ? process.env.REFRESHED_ACCESS_TOKEN_TTL
      : process.env.ACCESS_TOKEN_TTL) || 3600),
  },
  issueRefreshToken: async () => true,
  cookies: { keys: ['cartlink-test-peer'] },
});
provider.proxy = false;

const stats = { tokenRequests: 0, issued: [], revocations: 0, revoked: 0 };
const tokenDelayMs = Number(process.env.TOKEN_DELAY_MS || 0);

provider.use(async (ctx, next) => {
  if (ctx.path === '/__peer/stats') {
    ctx.body = stats;
    return;
  }
  const isToken = ctx.method === 'POST' && ctx.path === '/token';
  const isRevocation = ctx.method === 'POST' && ctx.path === '/token/revocation';
  if (isRevocation) stats.revocations += 1;
  if (isToken) {
    stats.tokenRequests += 1;
    if (tokenDelayMs > 0) await new Promise((done) => { setTimeout(done, tokenDelayMs); });
  }
  await next();
  if (typeof ctx.body === 'string' && ctx.body.includes('fonts.googleapis.com')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
  }
  if (isRevocation && ctx.status === 200) stats.revoked += 1;
  if (isToken && ctx.status === 200 && ctx.body && ctx.body.access_token) {
    stats.issued.push({ access_token: ctx.body.access_token, refresh_token: ctx.body.refresh_token || null });
  }
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
