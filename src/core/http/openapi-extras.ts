/**
 * Token of the OpenAPI paths of routes that are not Nest controllers (the OFREP routes are
 * plain Fastify routes for speed, so Nest's scanner cannot see them). A feature module
 * provides an `ExtraPaths` under it; createApiApp merges them into /docs.
 */
export const OPENAPI_EXTRA_PATHS = Symbol('OPENAPI_EXTRA_PATHS');
