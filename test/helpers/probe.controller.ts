import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AppModule } from '../../src/app.module';
import { Public } from '../../src/common/auth/auth.decorators';

export class ProbeBodyDto {
  @IsString()
  @MaxLength(100)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  count?: number;
}

/** Routes that exist only in tests, to exercise the platform's pipe, limits and errors. */
@Public()
@Controller('probe')
export class ProbeController {
  static inFlightDelayMs = 300;
  /** Called when a slow request has reached its handler, so a test can act while it is in flight. */
  static onSlowStarted: () => void = () => undefined;

  @Post('echo')
  echo(@Body() body: ProbeBodyDto): ProbeBodyDto {
    return body;
  }

  @Get('crash')
  crash(): never {
    throw new Error("ER_DUP_ENTRY: Duplicate entry 'secret-value' for key 'SELECT * FROM users'");
  }

  @Get('slow')
  async slow(): Promise<{ done: boolean }> {
    ProbeController.onSlowStarted();
    await new Promise((resolve) => setTimeout(resolve, ProbeController.inFlightDelayMs));
    return { done: true };
  }
}

@Module({ imports: [AppModule], controllers: [ProbeController] })
export class ProbeAppModule {}
