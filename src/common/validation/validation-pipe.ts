import { ValidationPipe } from '@nestjs/common';
import { RequestValidationError } from './request-validation.error';

/** Whitelisting pipe: unknown fields are refused, so nothing can be mass-assigned. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => RequestValidationError.fromValidationErrors(errors),
  });
}
