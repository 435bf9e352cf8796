/**
 * The OpenAPI 3.1 document of the HTTP API, built from the very schemas fastify validates and serializes each
 * route with (collected by an `onRoute` hook as the routes are declared): the document cannot drift from what
 * the server checks. Served at GET /api/openapi.json. JSON Schema is OpenAPI 3.1's schema language, so each
 * route schema goes in as it is. (Written here rather than with @fastify/swagger: the part needed is this page,
 * and no dependency has to follow fastify's major versions.)
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

interface CollectedRoute {
  method: string;
  url: string;
  access: string;
  schema: Record<string, unknown>;
}

type JsonSchema = {
  type?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  [k: string]: unknown;
};

/** Starts collecting the routes declared after this call; `document()` builds the OpenAPI page from them. */
export function openApiCollector(app: FastifyInstance, info: { title: string; version: string }) {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    if (!r.url.startsWith('/api/')) return;
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      const access = (r.config as { access?: string } | undefined)?.access ?? 'read';
      routes.push({
        method: method.toLowerCase(),
        url: r.url,
        access,
        schema: (r.schema ?? {}) as Record<string, unknown>,
      });
    }
  });
  return {
    document(): Record<string, unknown> {
      const paths: Record<string, Record<string, unknown>> = {};
      for (const r of routes) {
        const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        const parameters: unknown[] = [];
        for (const [where, key] of [
          ['path', 'params'],
          ['query', 'querystring'],
        ] as const) {
          const s = r.schema[key] as JsonSchema | undefined;
          for (const [name, schema] of Object.entries(s?.properties ?? {})) {
            parameters.push({
              name,
              in: where,
              required: where === 'path' || (s?.required ?? []).includes(name),
              schema,
            });
          }
        }
        const responses: Record<string, unknown> = {};
        const resp = (r.schema.response ?? {}) as Record<string, JsonSchema>;
        for (const [code, schema] of Object.entries(resp)) {
          responses[code.toUpperCase()] = {
            description: code.startsWith('2') ? 'OK' : 'error: {statusCode, error, message, field?}',
            content: { 'application/json': { schema } },
          };
        }
        if (Object.keys(responses).length === 0) responses['200'] = { description: 'OK' };
        const op: Record<string, unknown> = {
          operationId: `${r.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
          parameters,
          responses,
        };
        if (typeof r.schema.description === 'string') op.summary = r.schema.description;
        if (r.schema.body)
          op.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } };
        if (r.access === 'control') op.security = [{ bearer: [] }];
        else if (r.access === 'read') op.security = [{}, { bearer: [] }];
        paths[path] = { ...paths[path], [r.method]: op };
      }
      return {
        openapi: '3.1.0',
        info: {
          title: info.title,
          version: info.version,
          description:
            'cpobench bench API. Control routes need `Authorization: Bearer <token>`; read routes too when the server is bound beyond loopback. Live events: WebSocket /ws (snapshot, then events with seq and ts; ?since=N resumes).',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        paths,
      };
    },
  };
}
