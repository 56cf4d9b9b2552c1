import { Module } from '@nestjs/common';
import { OUTBOUND_RESOLVER, OutboundGuard, systemResolver } from './outbound-guard';
import { OutboundHttp } from './outbound-http';

/**
 * Outbound calls (webhook rotator, webhook subscriptions, any rotator that connects to a target):
 * the SSRF guard and the HTTP client built on it. Depends on config only, so any module may use it.
 */
@Module({
  providers: [
    { provide: OUTBOUND_RESOLVER, useValue: systemResolver },
    OutboundGuard,
    OutboundHttp,
  ],
  exports: [OutboundGuard, OutboundHttp],
})
export class OutboundModule {}
