import type { Campaign } from '../campaigns/campaigns.types';
import { ConflictError } from '../../core/errors/domain-error';

export class NotAcceptingError extends ConflictError {
  constructor(c: Campaign) {
    super('campaign.not_accepting', `campaign ${c.key} is ${c.status} and takes nobody in`, { status: c.status });
  }
}
