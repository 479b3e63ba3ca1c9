import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { LedgerHealthIndicator } from 'nestjs-ledger';

/** GET /health: 200 while the ledger writes and keeps up, 503 with the reason otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly ledgerHealth: LedgerHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.ledgerHealth.isHealthy('ledger')]);
  }
}
