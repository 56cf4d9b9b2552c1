import { AccessPolicy } from './access-policy';
import { GrantsController } from './grants.controller';
import { GrantsService } from './grants.service';

/** For AuthModule: `controllers: [...GRANTS_CONTROLLERS]`, `providers: [...GRANTS_PROVIDERS]`. */
export const GRANTS_CONTROLLERS = [GrantsController];
export const GRANTS_PROVIDERS = [GrantsService, AccessPolicy];
