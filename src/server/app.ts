/**
 * The HTTP API, the WebSocket event stream and the dashboard, over a BenchController.
 *
 * createServer({ controller, token, host, port }) listens and resolves to { app, hub, url, close() }.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { WebSocketServer } from 'ws';
import { checkDutOrigin, checkRunLabel } from '../core/run-labels.ts';
import {
  type BenchController,
  EXPORT_FORMATS,
  type ExportFormat,
  type RunFilter,
  type StartRunRequest,
} from './controller.ts';
import { BenchError, statusOf, ValidationError } from './errors.ts';
import { openApiCollector } from './openapi.ts';
import { loadAssets } from './static.ts';
import { WsHub, type WsHubOptions } from './ws-hub.ts';

export interface ServerOptions {
  controller: BenchController;
  /** Bearer token for control routes (and for everything when bound beyond loopback). Required. */
  token: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** false (default), true for fastify's pino logger, or a pino logger instance. */
  logger?: boolean | FastifyBaseLogger;
  /**
   * Whether read-only routes and /ws are open without the token. Default: open only when `host` is a
   * loopback address.
   */
  openReads?: boolean;
  /** Request body limit in bytes; default 64 KiB. */
  bodyLimit?: number;
  /** Tuning for the WebSocket hub (ring size, backpressure bounds). */
  ws?: Omit<WsHubOptions, 'snapshot'>;
  /** Where the dashboard files are read from at startup; default the repo's dashboards/. */
  dashboardsDir?: string;
}

export interface BenchServer {
  app: FastifyInstance;
  hub: WsHub;
  url: string;
  close(): Promise<void>;
}

type Access = 'public' | 'read' | 'control';

/** The shortest control token the server accepts (from CPOBENCH_TOKEN or the caller). */
export const MIN_TOKEN_LENGTH = 8;

/** A fresh random token, for when CPOBENCH_TOKEN is not set. */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const errorSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
  },
  required: ['statusCode', 'error', 'message'],
} as const;

const errors = { '4xx': errorSchema, '5xx': errorSchema } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;
const runIdParam = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['id'],
} as const;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

export async function createServer(opts: ServerOptions): Promise<BenchServer> {
  if (typeof opts.token !== 'string' || opts.token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`createServer: a token of at least ${MIN_TOKEN_LENGTH} characters is required`);
  }
  const { controller } = opts;
  const host = opts.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  const openReads = opts.openReads ?? loopback;
  const tokenBuf = Buffer.from(opts.token);
  const assets = loadAssets(opts.dashboardsDir);

  const app = Fastify({
    ...(typeof opts.logger === 'object' ? { loggerInstance: opts.logger } : { logger: opts.logger ?? false }),
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    forceCloseConnections: true,
    // No silent type coercion: `"dut": 42` is a 400, not "42". Query strings are parsed by hand. Unknown fields
    // where a schema says additionalProperties: false are a 400 naming them, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, allowUnionTypes: true, removeAdditional: false } },
  });

  // every /api route declared below goes into the OpenAPI document, with the schemas it is validated with
  const openapi = openApiCollector(app, { title: 'cpobench', version: controller.health().version });
  const hub = new WsHub({ ...opts.ws, snapshot: () => controller.snapshot() });
  const unsubscribe = controller.onEvent((e) => hub.publish(e));

  const tokenOk = (presented: string | undefined): boolean => {
    if (!presented) return false;
    const b = Buffer.from(presented);
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
  };
  const bearer = (h: string | string[] | undefined): string | undefined => {
    const v = Array.isArray(h) ? h[0] : h;
    const m = v ? /^Bearer\s+(\S+)\s*$/i.exec(v) : null;
    return m ? m[1] : undefined;
  };
  let allowedHosts = new Set<string>();
  const hostOk = (h: string | undefined): boolean =>
    !loopback || (h !== undefined && allowedHosts.has(h.toLowerCase()));

  const fail = (reply: FastifyReply, statusCode: number, message: string, field?: string) =>
    reply.code(statusCode).send({ statusCode, error: STATUS_TEXT[statusCode] ?? 'Error', message, field });

  // Access control: dashboard files are public; read-only API needs the token off loopback; control always.
  app.addHook('onRequest', async (req, reply) => {
    if (!hostOk(req.headers.host)) return fail(reply, 403, 'unexpected Host header');
    const access = (req.routeOptions.config as { access?: Access } | undefined)?.access ?? 'read';
    if (access === 'public') return;
    if (access === 'read' && openReads) return;
    if (!tokenOk(bearer(req.headers.authorization))) {
      return fail(reply, 401, 'missing or invalid bearer token (Authorization: Bearer <token>)');
    }
  });

  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number }, req, reply) => {
    let status = statusOf(err);
    let field: string | undefined;
    let message = err.message;
    if (Array.isArray(err.validation) && err.validation.length > 0) {
      status = 400;
      const v = err.validation[0] as {
        instancePath?: string;
        params?: { missingProperty?: string; additionalProperty?: string };
      };
      const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
      const key = v.params?.missingProperty ?? v.params?.additionalProperty;
      field = key ? [path, key].filter(Boolean).join('.') : path || undefined;
      if (v.params?.additionalProperty) message = `${field}: unknown field`;
    } else if (err instanceof ValidationError) {
      field = err.field;
    }
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      // a BenchError's message is written for the client (what is unavailable and why); anything else is not
      if (!(err instanceof BenchError)) message = 'internal error';
    }
    return fail(reply, status, message, field);
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 404, `no route ${req.method} ${req.url.split('?')[0]}`));

  // --- read-only API ---
  app.get(
    '/api/health',
    {
      config: { access: 'public' satisfies Access },
      schema: {
        response: {
          200: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              station: { type: 'string' },
              version: { type: 'string' },
              running: { type: ['string', 'null'] },
            },
            required: ['ok', 'station', 'version', 'running'],
          },
          ...errors,
        },
      },
    },
    async () => controller.health(),
  );

  app.get(
    '/api/instruments',
    {
      schema: {
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                role: { type: 'string' },
                resource: { type: 'string' },
                state: { type: 'string' },
                identity: { type: 'string' },
              },
              required: ['role', 'resource', 'state'],
            },
          },
          ...errors,
        },
      },
    },
    async () => controller.instruments(),
  );

  app.get(
    '/api/sequences',
    {
      schema: {
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                file: { type: 'string' },
                description: { type: 'string' },
                steps: { type: 'integer' },
                dutRequired: { type: 'boolean' },
              },
              required: ['name', 'file', 'steps'],
            },
          },
          ...errors,
        },
      },
    },
    async () => controller.sequences(),
  );

  app.get(
    '/api/runs',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            dut: { type: 'string', maxLength: 200 },
            sequence: { type: 'string', maxLength: 200 },
            outcome: { type: 'string', enum: ['PASS', 'FAIL', 'ERROR', 'ABORTED', 'INTERRUPTED', 'RUNNING'] },
            limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$' },
          },
          additionalProperties: false,
        },
        response: { 200: { type: 'array', items: anyObject }, ...errors },
      },
    },
    async (req: FastifyRequest<{ Querystring: Omit<RunFilter, 'limit'> & { limit?: string } }>) => {
      const { limit, ...rest } = req.query;
      return controller.listRuns({ ...rest, limit: limit === undefined ? 100 : Number(limit) });
    },
  );

  app.get(
    '/api/runs/:id',
    { schema: { params: runIdParam, response: { 200: anyObject, ...errors } } },
    async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const run = controller.getRun(req.params.id);
      return run ?? fail(reply, 404, `unknown run: ${req.params.id}`);
    },
  );

  app.get(
    '/api/runs/:id/export',
    {
      schema: {
        params: runIdParam,
        querystring: {
          type: 'object',
          properties: {
            format: {
              type: 'string',
              enum: [...EXPORT_FORMATS],
              description: 'pdf: the html report printed by headless Chromium (seconds; 503 saying why when it cannot)',
            },
          },
          required: ['format'],
        },
        response: { ...errors },
      },
    },
    async (req: FastifyRequest<{ Params: { id: string }; Querystring: { format: ExportFormat } }>, reply) => {
      // a client that goes away ends the work done for it (Chromium printing a PDF)
      const gone = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableFinished) gone.abort();
      };
      reply.raw.once('close', onClose);
      const out = await controller.exportRun(req.params.id, req.query.format, { signal: gone.signal });
      reply.raw.off('close', onClose);
      if (!out) return fail(reply, 404, `unknown run: ${req.params.id}`);
      const filename = out.filename.replace(/[^A-Za-z0-9._-]/g, '_');
      return reply
        .header('content-type', out.contentType)
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(out.body);
    },
  );

  // --- control API ---
  app.post(
    '/api/runs',
    {
      config: { access: 'control' satisfies Access },
      schema: {
        body: {
          type: 'object',
          properties: {
            sequence: { type: 'string', minLength: 1, maxLength: 200 },
            // the content of dut and operator is checked by checkRunLabel, as `cpobench run` checks it
            dut: { type: 'string' },
            operator: { type: 'string' },
            // the DUT's origin, each optional; checked by checkDutOrigin (die: {x, y} integers)
            lot: { type: 'string' },
            wafer: { type: 'string' },
            die: { type: 'object' },
            params: { type: 'object' },
          },
          required: ['sequence', 'dut', 'operator'],
          additionalProperties: false,
        },
        response: {
          201: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
          ...errors,
        },
      },
    },
    async (req: FastifyRequest<{ Body: StartRunRequest }>, reply) => {
      const { sequence, params } = req.body;
      const label = (field: 'dut' | 'operator'): string => {
        const r = checkRunLabel(field, req.body[field]);
        if (!r.ok) throw new ValidationError(field, `${field}: ${r.message}`);
        return r.value;
      };
      const origin = checkDutOrigin(req.body);
      if (!origin.ok) throw new ValidationError(origin.field, `${origin.field}: ${origin.message}`);
      const { id } = await controller.startRun({
        sequence,
        dut: label('dut'),
        operator: label('operator'),
        ...origin.value,
        params,
      });
      return reply.code(201).send({ id });
    },
  );

  app.post(
    '/api/runs/:id/abort',
    {
      config: { access: 'control' satisfies Access },
      schema: {
        params: runIdParam,
        response: {
          200: { type: 'object', properties: { id: { type: 'string' }, aborted: { type: 'boolean' } } },
          ...errors,
        },
      },
    },
    async (req: FastifyRequest<{ Params: { id: string } }>) => {
      await controller.abortRun(req.params.id, 'api');
      return { id: req.params.id, aborted: true };
    },
  );

  app.post(
    '/api/runs/:id/prompts/:promptId',
    {
      config: { access: 'control' satisfies Access },
      schema: {
        params: {
          type: 'object',
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 128 },
            promptId: { type: 'string', minLength: 1, maxLength: 128 },
          },
          required: ['id', 'promptId'],
        },
        body: {
          type: 'object',
          properties: {
            answer: { type: ['string', 'number', 'boolean'] },
            by: { type: 'string', minLength: 1, maxLength: 200 },
          },
          required: ['answer'],
        },
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, ...errors },
      },
    },
    async (
      req: FastifyRequest<{
        Params: { id: string; promptId: string };
        Body: { answer: string | number | boolean; by?: string };
      }>,
    ) => {
      await controller.answerPrompt(req.params.id, req.params.promptId, req.body.answer, req.body.by ?? 'api');
      return { ok: true };
    },
  );

  app.get(
    '/api/openapi.json',
    {
      config: { access: 'public' satisfies Access },
      schema: { description: 'this document', response: { 200: anyObject } },
    },
    async () => openapi.document(),
  );

  // --- dashboard (in-memory whitelist) ---
  const csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  for (const [path, asset] of assets) {
    app.get(path, { config: { access: 'public' satisfies Access } }, async (_req, reply) =>
      reply
        .header('content-type', asset.contentType)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', csp)
        .header('referrer-policy', 'no-referrer')
        .send(asset.body),
    );
  }

  // --- WebSocket stream ---
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024, perMessageDeflate: false });
  const reject = (socket: Duplex, status: number, message: string) => {
    const body = JSON.stringify({ statusCode: status, error: STATUS_TEXT[status] ?? 'Error', message });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.destroy();
  };
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ws') return reject(socket, 404, 'no such WebSocket endpoint');
    if (!hostOk(req.headers.host)) return reject(socket, 403, 'unexpected Host header');
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let originHost: string | null = null;
      try {
        originHost = new URL(origin).host;
      } catch {
        /* invalid origin */
      }
      if (originHost === null || originHost !== req.headers.host) return reject(socket, 403, 'cross-origin request');
    }
    if (!openReads && !tokenOk(url.searchParams.get('token') ?? bearer(req.headers.authorization))) {
      return reject(socket, 401, 'missing or invalid token');
    }
    const sinceRaw = url.searchParams.get('since');
    const since = sinceRaw !== null && /^\d{1,15}$/.test(sinceRaw) ? Number(sinceRaw) : undefined;
    wss.handleUpgrade(req, socket, head, (ws) => hub.attach(ws, since));
  });

  await app.listen({ host, port: opts.port ?? 8080 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 8080);
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`]);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    app,
    hub,
    url,
    close() {
      closing ??= (async () => {
        unsubscribe();
        hub.close();
        wss.close();
        await app.close();
      })();
      return closing;
    },
  };
}
