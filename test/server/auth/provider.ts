// A real OpenID provider for tests (oidc-provider, in this process, on 127.0.0.1 port 0, plain
// http — the portal allows that on loopback addresses only), with one confidential client that
// must use PKCE, accounts whose groups a test can change between sign-ins, and the provider's
// own development sign-in and consent pages. Also: a cookie-keeping HTTP agent that walks those
// pages the way a browser would, and a portal (./portal.ts) started against the provider.

import { createServer as createNetServer } from 'node:net';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { PortalOptions } from '../../../src/server/main.ts';
import { startTestPortal, type TestPortal } from './portal.ts';

export interface TestAccount {
  /** What the learner types into the provider's sign-in form; also the `sub`. */
  login: string;
  name?: string;
  preferred_username?: string;
  email?: string;
  groups?: string[];
  /** Any other claim, e.g. a differently named groups claim. */
  [claim: string]: unknown;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by login; change them between sign-ins to see roles re-evaluated. */
  accounts: Map<string, TestAccount>;
  /** Registers a portal's addresses (callback, post-logout) with the test client. */
  trust(portalUrl: string): void;
  stop(): Promise<void>;
}

export const CLIENT_ID = 'formicary-portal';
export const CLIENT_SECRET = 'a-client-secret-for-tests-only-0123456789';

export async function startTestProvider(accounts: TestAccount[]): Promise<TestProvider> {
  const byLogin = new Map(accounts.map((account) => [account.login, account]));
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let handle: RequestListener | null = null;
  server.on('request', (req, res) => {
    if (handle) handle(req, res);
    else res.writeHead(503).end('no portal trusted yet');
  });

  const configure = (portalUrl: string) => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${portalUrl}/auth/callback`],
          post_logout_redirect_uris: [`${portalUrl}/`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      pkce: { required: () => true },
      claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], groups: ['groups', 'teams'] },
      findAccount: async (_context, id) => ({
        accountId: id,
        claims: () => {
          const { login, ...claims } = byLogin.get(id) ?? { login: id };
          return { sub: login, ...claims };
        },
      }),
      cookies: { keys: ['test-provider-cookie-key-0123456789abcdef'] },
      ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    });
    handle = provider.callback();
  };

  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    accounts: byLogin,
    trust: configure,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface StoredCookie {
  value: string;
  path: string;
}

/**
 * Follows no redirects by itself and keeps cookies as a browser does on 127.0.0.1 (shared by
 * every port, sent where their Path matches), so each step of a sign-in can be looked at.
 */
export class Agent {
  readonly cookies = new Map<string, StoredCookie>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const { pathname } = new URL(url);
    const cookie = [...this.cookies]
      .filter(([, stored]) => pathname === stored.path || pathname.startsWith(stored.path.endsWith('/') ? stored.path : `${stored.path}/`))
      .map(([name, stored]) => `${name}=${stored.value}`)
      .join('; ');
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.#store(line);
    return response;
  }

  #store(line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator);
    const value = pair.slice(separator + 1);
    const attribute = (key: string) => attributes.find((part) => part.toLowerCase().startsWith(`${key}=`))?.split('=')[1];
    const expired = attribute('max-age') === '0' || (attribute('expires') !== undefined && Date.parse(attribute('expires')!) < Date.now());
    if (expired || value === '') this.cookies.delete(name);
    else this.cookies.set(name, { value, path: attribute('path') ?? '/' });
  }

  /** Follows redirects from `url` until `stop` says so or a page answers; returns that response and its address. */
  async follow(url: string, stop: (address: string) => boolean = () => false): Promise<{ response: Response; url: string }> {
    let address = url;
    for (let hop = 0; hop < 20; hop += 1) {
      const response = await this.fetch(address);
      const location = response.headers.get('location');
      if (location === null || !(response.status >= 300 && response.status < 400)) return { response, url: address };
      address = new URL(location, address).href;
      if (stop(address)) return { response, url: address };
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }
}

/**
 * At the provider: signs in as `login` on its sign-in form and consents, starting from an
 * authorization URL; returns the address the provider sends the browser back to (the portal's
 * callback with code and state), without visiting it.
 */
export async function signInAtProvider(agent: Agent, authorizationUrl: string, login: string, callbackPrefix: string): Promise<string> {
  let address = authorizationUrl;
  for (let step = 0; step < 10; step += 1) {
    const { response, url } = await agent.follow(address, (next) => next.startsWith(callbackPrefix));
    if (url.startsWith(callbackPrefix)) return url;
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`the provider answered ${response.status} at ${url} with no sign-in or consent form:\n${html.slice(0, 800)}`);
    const fields: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt };
    const submitted = await agent.fetch(new URL(action, url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    const location = submitted.headers.get('location');
    if (!location) throw new Error(`the provider's ${prompt} form answered ${submitted.status} without a redirect`);
    address = new URL(location, url).href;
    if (address.startsWith(callbackPrefix)) return address;
  }
  throw new Error('the provider kept asking for sign-in or consent');
}

/** A port on 127.0.0.1 that nothing listens on now: the portal's address must be known before it starts (OIDC_REDIRECT_URL). */
export async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface OidcPortal extends TestPortal {
  provider: TestProvider;
}

/**
 * The portal with AUTH=oidc against `provider`. `env` adds or overrides variables
 * (OIDC_ADMIN_GROUPS, …); `options.root` says whose built site to serve.
 */
export async function startOidcPortal(provider: TestProvider, env: Record<string, string> = {}, options: PortalOptions = {}): Promise<OidcPortal> {
  // Another process may take the probed port before the portal binds it: probe again then.
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const portalUrl = `http://127.0.0.1:${port}`;
    provider.trust(portalUrl);
    try {
      const started = await startTestPortal(
        {
          PORT: String(port),
          AUTH: 'oidc',
          OIDC_ISSUER: provider.issuer,
          OIDC_CLIENT_ID: provider.clientId,
          OIDC_CLIENT_SECRET: provider.clientSecret,
          OIDC_REDIRECT_URL: `${portalUrl}/auth/callback`,
          OIDC_SCOPES: 'openid profile email groups',
          ...env,
        },
        options,
      );
      return { ...started, provider };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
    }
  }
}
