import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';

export class CredentialDecoyDto {
  @ApiProperty({ description: 'Whether the credential is a decoy planted to catch intruders' })
  @IsBoolean()
  decoy!: boolean;
}
