import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '../core/auth/auth.decorators';
import type { Actor } from '../core/auth/auth.types';
import { KillSwitch } from '../core/http/input-guard';
import { Documented } from '../core/http/openapi/api-docs.decorators';
import { ZodBody } from '../core/validation/zod.pipe';
import { alertBodyDocSchema, alertsResultSchema } from './alerts.responses';
import { parseAlertBody } from './alerts.schemas';
import { AlertsService } from './alerts.service';

@ApiTags('alerts')
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  /** Alertmanager's webhook receiver (and a plain form): pauses or halts the campaigns an alert names. */
  @Post()
  @KillSwitch()
  @HttpCode(200)
  @Roles('alerter')
  @Documented('Receive alerts (Alertmanager webhook version 4, or {campaign, action, reason}); labels cutover_campaign and cutover_action name what to stop', alertsResultSchema)
  async receive(@Body(new ZodBody(alertBodyDocSchema)) body: unknown, @CurrentActor() actor: Actor) {
    return this.alerts.receive(parseAlertBody(body), actor);
  }
}
