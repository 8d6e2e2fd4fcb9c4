import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '../core/auth/auth.decorators';
import type { Actor } from '../core/auth/auth.types';
import { KillSwitch } from '../core/http/input-guard';
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
  @ApiOperation({ summary: 'Receive alerts (Alertmanager webhook version 4, or {campaign, action, reason}); labels cutover_campaign and cutover_action name what to stop' })
  @ApiBody({ schema: { type: 'object' } })
  async receive(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.alerts.receive(parseAlertBody(body), actor);
  }
}
