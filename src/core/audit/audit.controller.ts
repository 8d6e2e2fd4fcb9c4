import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/auth.decorators';
import { ZodQuery } from '../validation/zod.pipe';
import { listAuditSchema, type ListAuditInput } from './audit.schemas';
import { AuditService } from './audit.service';
import { Documented } from '../http/openapi/api-docs.decorators';
import { auditPageSchema } from './audit.responses';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Documented('Read the audit trail, newest first (who, what, before, after, why)', auditPageSchema)
  @Get()
  @Roles('viewer')
  list(@Query(new ZodQuery(listAuditSchema)) q: ListAuditInput) {
    return this.audit.list({ ...q, before: q.cursor });
  }
}
