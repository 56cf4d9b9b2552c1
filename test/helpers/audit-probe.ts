import {
  Body,
  CanActivate,
  Controller,
  ForbiddenException,
  Get,
  Injectable,
  Module,
  Post,
  UseGuards,
} from '@nestjs/common';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { DataSource, QueryRunner } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { Public } from '../../src/common/auth/auth.decorators';
import { AuditRequestContext } from '../../src/audit/audit-context';
import { AuditWriter } from '../../src/audit/audit-writer';
import { Audit } from '../../src/audit/http/audit.decorator';
import { AuditCtx } from '../../src/audit/http/audit-context.decorator';
import { TransactionRunner } from '../../src/database/transaction-runner';

export const PROBE_SECRET = 'canary-probe-secret-7f3a9c';

export class ProbeItemDto {
  @IsString()
  @MaxLength(64)
  name!: string;

  @IsOptional()
  @IsString()
  password?: string;
}

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    throw new ForbiddenException('Not allowed');
  }
}

/** Routes that act like later domain modules: a mutation audited in its own transaction. */
@Public()
@Controller('probe')
export class AuditProbeController {
  /** Transactions whose COMMIT is made to fail, as a lost connection or a Galera conflict would. */
  private readonly failingCommits = new WeakSet<QueryRunner>();

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditWriter,
    dataSource: DataSource,
  ) {
    dataSource.subscribers.push({
      beforeTransactionCommit: ({ queryRunner }) => {
        if (this.failingCommits.has(queryRunner)) throw new Error('commit failed');
      },
    });
  }

  @Post('items')
  @Audit('probe.item.create', { resourceType: 'probe_item' })
  async create(
    @Body() body: ProbeItemDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<{ name: string }> {
    await this.transactions.run(async (manager) => {
      await manager.query('INSERT INTO probe_items (name) VALUES (?)', [body.name]);
      await this.audit.record(
        {
          action: 'probe.item.create',
          outcome: 'success',
          resourceType: 'probe_item',
          resourceId: body.name,
          httpStatus: 201,
          details: { name: body.name, password: body.password },
          context,
        },
        manager,
      );
    });
    return { name: body.name };
  }

  /** Records its event in its transaction, whose commit then fails: the event is rolled back. */
  @Post('items/commit-fails')
  @Audit('probe.item.create', { resourceType: 'probe_item' })
  async createFailingCommit(
    @Body() body: ProbeItemDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<{ name: string }> {
    await this.transactions.run(async (manager) => {
      await manager.query('INSERT INTO probe_items (name) VALUES (?)', [body.name]);
      await this.audit.record(
        { action: 'probe.item.create', outcome: 'success', httpStatus: 201, context },
        manager,
      );
      this.failingCommits.add(manager.queryRunner!);
    });
    return { name: body.name };
  }

  @Get('secret')
  @Audit('probe.secret.reveal')
  secret(): { secret: string } {
    return { secret: PROBE_SECRET };
  }

  @Get('forbidden')
  @Audit('probe.forbidden.read')
  @UseGuards(DenyGuard)
  forbidden(): { ok: boolean } {
    return { ok: true };
  }
}

@Module({ imports: [AppModule], controllers: [AuditProbeController], providers: [DenyGuard] })
export class AuditProbeAppModule {}
