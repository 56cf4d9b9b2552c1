import { Controller, Get, Module } from '@nestjs/common';
import { AppModule } from '../src/app.module';
import { Audit } from '../src/audit/http/audit.decorator';
import { Public } from '../src/common/auth/auth.decorators';

/** The cheapest audited route (no authentication): what is measured is the audit write and the commit. */
@Public()
@Controller('bench')
class BenchController {
  @Get('ping')
  @Audit('bench.ping')
  ping(): { ok: boolean } {
    return { ok: true };
  }
}

@Module({ imports: [AppModule], controllers: [BenchController] })
export class BenchAppModule {}
