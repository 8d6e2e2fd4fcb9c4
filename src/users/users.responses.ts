import { z } from 'zod';
import { dateTime, idString } from '../core/http/openapi/response-schemas';
import { IMPORT_FORMATS, PLATFORMS } from './users.types';

export const userSchema = z
  .object({
    id: idString,
    country: z.string().meta({ example: 'DE' }),
    platform: z.enum(PLATFORMS),
    appVersion: z.string().meta({ example: '24.3.1' }),
    e2eeCapable: z.boolean(),
    attributes: z.record(z.string(), z.unknown()),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'User' });

export const importLimitsSchema = z
  .object({
    formats: z.object({ ndjson: z.literal('application/x-ndjson'), csv: z.literal('text/csv') }),
    maxLineBytes: z.number().int(),
    rejectedLinesReported: z.number().int(),
  })
  .meta({ id: 'ImportLimits' });

export const importSummarySchema = z
  .object({
    importId: z.string(),
    format: z.enum(IMPORT_FORMATS),
    bytes: z.number().int(),
    read: z.number().int().meta({ description: 'data lines read (blank lines and a CSV header excluded)' }),
    valid: z.number().int(),
    rejected: z.number().int(),
    duplicates: z.number().int().meta({ description: 'valid lines whose id appears again later in the file (the last one wins)' }),
    inserted: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    reassessed: z.number().int().meta({ description: 'users whose capability changed while in a campaign' }),
    rejectedLines: z.array(z.object({ line: z.number().int(), reason: z.string() })).meta({ description: 'the first rejected lines, in file order' }),
    durationMs: z.number(),
    phasesMs: z.object({ receive: z.number(), upsert: z.number() }),
  })
  .meta({ id: 'ImportSummary' });

export const seedSummarySchema = z
  .object({ added: z.number().int(), fromId: idString.nullable(), toId: idString.nullable(), incapable: z.number().int(), seed: z.number().int() })
  .meta({ id: 'SeedSummary' });

/** The import body as sent: one JSON object a line, or CSV with a header line. */
export const importFileSchemas = {
  'application/x-ndjson': z.string().meta({ example: '{"id":"1","country":"DE","platform":"ios","appVersion":"24.3.1","e2eeCapable":true}\n' }),
  'text/csv': z.string().meta({ example: 'id,country,platform,appVersion,e2eeCapable\n1,DE,ios,24.3.1,true\n' }),
};
