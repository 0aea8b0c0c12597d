// A Learning Record Store for one test: an HTTP server on 127.0.0.1 that takes statements at
// POST /xapi/statements the way an LRS must (xAPI 1.0.3 Communication §2.1): the version header,
// basic auth, every statement valid against the Statement schema, ids kept (the same id with other
// content is a 409), and answers 200 with the ids. `answer` lets a test make requests fail.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { statementProblems, type Statement } from '../../../src/server/xapi/index.ts';

/** What to do with the Nth request (1-based): answer normally, with this status, never, or cut the connection. */
export type Answer = 'normal' | 'hang' | 'drop' | { status: number; body?: string };

export interface TestLrsOptions {
  username?: string;
  password?: string;
  answer?: (request: number, statements: readonly Statement[]) => Answer;
}

export interface TestLrs {
  /** XAPI_ENDPOINT: the LRS's base, ending in /xapi/. */
  endpoint: string;
  /** Statements stored, in the order they were accepted. */
  statements: Statement[];
  /** Every POST: its answer status (0 for hang/drop) and the statement ids it carried. */
  requests: Array<{ status: number; ids: string[] }>;
  /** Problems found in refused requests, for assertion messages. */
  problems: string[];
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTestLrs(options: TestLrsOptions = {}): Promise<TestLrs> {
  const stored = new Map<string, Statement>();
  const statements: Statement[] = [];
  const requests: TestLrs['requests'] = [];
  const problems: string[] = [];
  const hanging = new Set<ServerResponse>();
  let count = 0;

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-experience-api-version': '1.0.3' });
    res.end(JSON.stringify(body));
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://lrs');
    if (url.pathname !== '/xapi/statements' || req.method !== 'POST') return reply(res, 404, { error: `no ${req.method} ${url.pathname} here` });
    const body = await readBody(req);
    const refuse = (status: number, message: string) => {
      problems.push(message);
      requests.push({ status, ids: [] });
      reply(res, status, { error: message });
    };
    if (!/^1\.0(\.\d+)?$/.test(String(req.headers['x-experience-api-version'] ?? ''))) return refuse(400, 'X-Experience-API-Version must be 1.0.x');
    if (options.username !== undefined) {
      const expected = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return refuse(401, 'wrong or missing credentials');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return refuse(400, 'Content-Type must be application/json');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return refuse(400, 'the body is not JSON');
    }
    const batch = Array.isArray(parsed) ? parsed : [parsed];
    const found = batch.flatMap((candidate, index) => statementProblems(candidate).map((problem) => `statement ${index}: ${problem}`));
    // This LRS also holds the portal to what its statements promise: an id, a timestamp, version 1.0.3.
    for (const [index, candidate] of batch.entries()) {
      const statement = candidate as Partial<Statement>;
      if (!statement.id) found.push(`statement ${index}: id is missing`);
      if (!statement.timestamp) found.push(`statement ${index}: timestamp is missing`);
      if (statement.version !== '1.0.3') found.push(`statement ${index}: version must be 1.0.3`);
      if (!statement.verb?.display || Object.keys(statement.verb.display).length === 0) found.push(`statement ${index}: verb.display is missing`);
    }
    if (found.length > 0) return refuse(400, found.join('\n'));
    const valid = batch as Statement[];

    count += 1;
    const answer = options.answer?.(count, valid) ?? 'normal';
    const ids = valid.map((statement) => statement.id ?? '');
    if (answer === 'hang') {
      requests.push({ status: 0, ids });
      hanging.add(res);
      return;
    }
    if (answer === 'drop') {
      requests.push({ status: 0, ids });
      req.socket.destroy();
      return;
    }
    if (answer !== 'normal') {
      requests.push({ status: answer.status, ids });
      res.writeHead(answer.status, { 'content-type': 'text/plain' });
      res.end(answer.body ?? 'refused by the test');
      return;
    }
    for (const statement of valid) {
      const earlier = stored.get(statement.id ?? '');
      if (earlier && !isDeepStrictEqual(earlier, statement)) {
        requests.push({ status: 409, ids });
        return reply(res, 409, { error: `statement ${statement.id} exists with other content` });
      }
    }
    for (const statement of valid) {
      if (stored.has(statement.id ?? '')) continue;
      stored.set(statement.id ?? '', statement);
      statements.push(statement);
    }
    requests.push({ status: 200, ids });
    reply(res, 200, ids);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/xapi/`,
    statements,
    requests,
    problems,
    async stop() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
