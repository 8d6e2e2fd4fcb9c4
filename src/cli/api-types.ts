import type { components } from './api.generated';

/** A schema of the API's OpenAPI document (docs/openapi.json), as the CLI receives it. */
export type ApiSchema<K extends keyof components['schemas']> = components['schemas'][K];

/** A: what the API sends; C: the fields a command reads. Compiles only when A has all of C. */
export type Agrees<A extends C, C> = A;
