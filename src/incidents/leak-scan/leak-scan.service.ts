import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { AuditRequestContext } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import type { Principal } from '../../common/auth/principal';
import { leakScanConfig } from '../../config/leak-scan.config';
import { LeakHit, LeakScanner } from '../../credentials/leak-scan/leak-scanner';
import { DecoyWatch } from '../decoys/decoy-watch';
import { LeakContainment } from './leak-containment';
import { LeakScanResponseDto } from './leak-scan.dto';

/**
 * POST /scan: which stored secrets a text holds. The caller learns of matches on credentials it
 * may read and only the number of the others; the audit event records the counts and the matched
 * credential ids (for the people who investigate), never the text. A decoy's value in the text is
 * reported to the decoy watch (not to the caller: it looks like any other match).
 */
@Injectable()
export class LeakScanService {
  private readonly logger = new Logger(LeakScanService.name);

  constructor(
    private readonly scanner: LeakScanner,
    private readonly containment: LeakContainment,
    private readonly decoys: DecoyWatch,
    private readonly audit: AuditWriter,
    @Inject(leakScanConfig.KEY) private readonly config: ConfigType<typeof leakScanConfig>,
  ) {}

  async scan(
    request: { text: string; contain?: boolean },
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<LeakScanResponseDto> {
    const result = await this.scanner.scan(request.text, principal);
    const contain = request.contain ?? this.config.containByDefault;
    const byCredential = groupByCredential(result.hits);
    const readable = result.hits.filter((hit) => hit.readable);
    const otherMatches = result.hits.length - readable.length;
    await this.audit.record({
      action: 'leak.scan',
      outcome: 'success',
      httpStatus: 200,
      resourceType: 'leak_scan',
      details: {
        bytes: Buffer.byteLength(request.text, 'utf8'),
        candidates: result.candidates,
        truncated: result.truncated,
        matches: readable.length,
        otherMatches,
        contain,
        hits: result.hits.map(({ credentialId, version }) => ({ credentialId, version })),
      },
      context,
    });
    for (const hits of byCredential) {
      if (hits[0].decoy) await this.reportDecoy(hits[0], principal, context);
    }
    if (contain) {
      for (const hits of byCredential) await this.containment.contain(hits, principal, context);
    }
    return {
      matches: readable.map(({ credentialId, path, version, state }) => ({
        credentialId,
        path,
        version,
        state,
      })),
      otherMatches,
      candidates: result.candidates,
      truncated: result.truncated,
      contained: contain && byCredential.length > 0,
    };
  }

  /** Someone chose to commit without a scan: the audit log says who, where and why. */
  async recordBypass(
    request: { reason: string; where?: string },
    context?: AuditRequestContext,
  ): Promise<void> {
    await this.audit.record({
      action: 'leak.scan.bypass',
      outcome: 'success',
      httpStatus: 204,
      resourceType: 'leak_scan',
      details: { reason: request.reason, ...(request.where ? { where: request.where } : {}) },
      context,
    });
  }

  /** A decoy's incident must not fail the scan that found it. */
  private async reportDecoy(
    hit: LeakHit,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<void> {
    await this.decoys
      .seen({ ...hit, how: 'scan', principal, context })
      .catch((error: unknown) =>
        this.logger.error(
          `Decoy report for ${hit.credentialId} failed: ${(error as Error).message}`,
        ),
      );
  }
}

function groupByCredential(hits: readonly LeakHit[]): LeakHit[][] {
  const groups = new Map<string, LeakHit[]>();
  for (const hit of hits) {
    const group = groups.get(hit.credentialId);
    if (group) group.push(hit);
    else groups.set(hit.credentialId, [hit]);
  }
  return [...groups.values()];
}
