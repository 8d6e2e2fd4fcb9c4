import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * OpenAPI paths of routes that are not Nest controllers (the OFREP routes are plain Fastify
 * routes for speed, so Nest's scanner cannot see them). A feature module provides this token;
 * createApiApp merges the paths into /docs.
 */
export const OPENAPI_EXTRA_PATHS = Symbol('OPENAPI_EXTRA_PATHS');

export type OpenApiPaths = OpenAPIObject['paths'];

export function withExtraPaths(doc: OpenAPIObject, extra: OpenApiPaths | undefined): OpenAPIObject {
  if (!extra) return doc;
  return { ...doc, paths: { ...doc.paths, ...extra } };
}
