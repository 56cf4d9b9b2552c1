import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsPageCursor, PageCursor } from '../../common/pagination/page-cursor';
import { IsOptionalNotNull } from '../../common/validation/is-optional-not-null';
import { MAX_PASSWORD_LENGTH } from '../passwords/password-policy';
import { USER_STATUSES } from '../users/user.entity';
import { ROLES } from '../../common/auth/access-vocabulary';
import type { User, UserStatus } from '../users/user.entity';
import type { Role } from '../../common/auth/access-vocabulary';

/** Users are listed by e-mail; a cursor holds the last address of its page. */
export const USER_CURSOR = new PageCursor(
  'users',
  (email) => email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email),
);

export class UserCreateDto {
  @ApiProperty({ example: 'operator@example.com' })
  @IsEmail({ require_tld: false })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ format: 'password', minLength: 12 })
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;
}

export class UserUpdateDto {
  @ApiPropertyOptional({ enum: ROLES })
  @IsOptionalNotNull()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ enum: USER_STATUSES })
  @IsOptionalNotNull()
  @IsIn(USER_STATUSES)
  status?: UserStatus;
}

export class UserPasswordResetDto {
  @ApiProperty({
    format: 'password',
    minLength: 12,
    description: 'The user must change it at next login',
  })
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password!: string;
}

export class UserListQueryDto {
  @ApiPropertyOptional({ default: 100, maximum: 500 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(USER_CURSOR)
  cursor?: string;
}

export class UserResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ enum: USER_STATUSES }) status!: UserStatus;
  @ApiProperty() mfaEnabled!: boolean;
  @ApiProperty() mustChangePassword!: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) lockedUntil!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(user: User): UserResponseDto {
    return {
      id: user.id,
      email: user.email,
      role: user.role,
      status: user.status,
      mfaEnabled: user.mfaEnabled,
      mustChangePassword: user.mustChangePassword,
      lockedUntil: user.lockedUntil ? user.lockedUntil.toISOString() : null,
      createdAt: user.createdAt.toISOString(),
    };
  }
}

export class UserPageDto {
  @ApiProperty({ type: [UserResponseDto] }) items!: UserResponseDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
