import { SetMetadata } from '@nestjs/common';
import type { ZodType } from 'zod';

export const OPERATION_KEY = 'cutover:openapi:operation';
export const REQUEST_CONTENT_KEY = 'cutover:openapi:request-content';
export const IF_MATCH_OPTIONAL_KEY = 'cutover:openapi:if-match-optional';

export interface DocumentedResponse {
  schema: ZodType;
  /** defaults to the route's status (201 for POST unless @HttpCode says otherwise, else 200) */
  status?: number;
  description?: string;
  contentType?: string;
}

export interface DocumentedOperation {
  summary: string;
  responses: DocumentedResponse[];
}

export interface DocumentedRequestContent {
  /** content type -> schema of the body as sent */
  content: Record<string, ZodType>;
  description: string;
}

/**
 * What a route does and what it answers, for /docs: a summary and the schema of each success
 * answer (a bare schema is the route's own status). Requests are documented from the zod
 * pipes the route already validates with.
 */
export const Documented = (summary: string, ...responses: Array<ZodType | DocumentedResponse>) =>
  SetMetadata(OPERATION_KEY, {
    summary,
    responses: responses.map((r) => ('schema' in r && !('_zod' in r) ? r : { schema: r as ZodType })),
  } satisfies DocumentedOperation);

/** A body the route reads itself (a streamed file) rather than through a zod pipe. */
export const RequestContent = (content: DocumentedRequestContent) => SetMetadata(REQUEST_CONTENT_KEY, content);

/** The route reads If-Match when sent but does not require it. */
export const IfMatchOptional = () => SetMetadata(IF_MATCH_OPTIONAL_KEY, true);
