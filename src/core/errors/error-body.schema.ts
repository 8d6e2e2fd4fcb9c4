import { z } from 'zod';

/** The one error shape of every 4xx and 5xx answer of the admin API. */
export const errorBodySchema = z
  .object({
    code: z.string().describe('stable, `<feature>.<snake_case>`, e.g. `campaign.invalid_transition`'),
    message: z.string().describe('for a person; names the field or the state at fault'),
    details: z.unknown().describe('more about the error (for validation: `[{ field, message }]`; for a 500: `{ errorId }`), null when there is nothing more'),
  })
  .meta({ id: 'Error', description: 'every error answer' });

export type ErrorBody = z.infer<typeof errorBodySchema>;
