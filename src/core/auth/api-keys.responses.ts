import { z } from 'zod';
import { dateTime, idString, nullableDateTime, pageOf } from '../http/openapi/response-schemas';
import { ROLES } from './auth.types';

export const apiKeySchema = z
  .object({
    id: idString,
    name: z.string(),
    prefix: z.string().meta({ description: 'the first characters of the key, to recognise it' }),
    role: z.enum(ROLES),
    createdBy: z.string().nullable(),
    createdAt: dateTime,
    revokedAt: nullableDateTime,
    lastUsedAt: nullableDateTime,
  })
  .meta({ id: 'ApiKey' });

export const createdApiKeySchema = z
  .object({ key: z.string().meta({ description: 'the secret; shown in this answer only (it is stored hashed)' }), apiKey: apiKeySchema })
  .meta({ id: 'CreatedApiKey' });

export const apiKeyPageSchema = pageOf(apiKeySchema).meta({ id: 'ApiKeyPage' });

export const whoAmISchema = z.object({ id: z.string(), name: z.string(), role: z.enum([...ROLES, 'system']) }).meta({ id: 'WhoAmI' });
